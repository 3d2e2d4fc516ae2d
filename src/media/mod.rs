//! News photos and other media files: where they are stored.

pub mod storage;
