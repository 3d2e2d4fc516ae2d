//! Process memory: large blocks go back to the operating system when freed.
//!
//! Each password hash takes a 19 MiB block. glibc's malloc serves blocks that large
//! with `mmap` at first, but after freeing one it raises its threshold above that
//! size, so later blocks come from per-thread arenas and stay resident: 40
//! concurrent logins, three times over, left 2.2 GB resident. Fixing the threshold
//! at 1 MiB keeps every large block mapped on its own and unmapped when freed.

/// Allocations of this many bytes or more get their own mapping.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 1 << 20;

/// Makes large allocations return to the OS when freed (glibc only; a no-op elsewhere).
pub fn return_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only changes a malloc tuning parameter; it is called once at
    // start-up, and setting M_MMAP_THRESHOLD is valid at any time.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}
