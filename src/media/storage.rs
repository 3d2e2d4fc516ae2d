//! Where media files live: a folder on the local disk or any S3-compatible
//! bucket (AWS S3, MinIO, R2, moto), behind one small interface of whole-object
//! `put`, `get` and `delete_prefix`. All I/O goes through the `object_store`
//! crate; nothing here speaks S3 itself.

use std::path::{Component, Path as FsPath, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{BackoffConfig, ClientConfigKey, ObjectStore, PutPayload, RetryConfig};

/// Where media files live. Cheap to clone (Arc inside).
#[derive(Clone)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    description: Arc<str>,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Storage").field(&self.description).finish()
    }
}

/// Why a media operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The key or prefix could escape its folder or is malformed: refused
    /// before any I/O.
    #[error("invalid media key {key:?}: {reason}")]
    InvalidKey { key: String, reason: &'static str },
    /// The disk or the S3 service failed (or timed out).
    #[error("media storage failed: {0}")]
    Backend(#[from] object_store::Error),
}

/// The forms `open` accepts, for its error sentences.
const ACCEPTED: &str = "use file://./media (relative to the database's folder), \
                        file:///an/absolute/path or s3://bucket/prefix";

/// A dead or unreachable S3 endpoint must fail a request within about a minute
/// instead of hanging it: object_store's defaults retry 10 times for up to
/// 3 minutes. Each attempt is bounded by the client timeouts below.
const CONNECT_TIMEOUT: &str = "5s";
const REQUEST_TIMEOUT: &str = "30s";
const MAX_RETRIES: usize = 3;
const RETRY_TIMEOUT: Duration = Duration::from_secs(15);

impl Storage {
    /// Opens the store named by `url`: `file://./media` or `file://media`
    /// (relative to `base`, created if missing), `file:///abs/path`, or
    /// `s3://bucket/prefix` configured from the usual AWS variables. Anything
    /// else is an `Err` with a sentence for the start-up error.
    pub fn open(url: &str, base: &FsPath) -> Result<Storage, String> {
        if let Some(rest) = url.strip_prefix("file://") {
            open_local(rest, base)
        } else if url.starts_with("s3://") {
            open_s3(url)
        } else {
            // Only the scheme is echoed: the rest could carry a credential.
            let scheme = url.split_once(':').map_or("", |(s, _)| s);
            Err(format!(
                "the media storage URL has an unsupported scheme {scheme:?}: {ACCEPTED}"
            ))
        }
    }

    /// A description for logs: `file:///abs/media` or
    /// `s3://bucket/prefix (endpoint http://…)`; never a secret.
    pub fn describe(&self) -> &str {
        &self.description
    }

    /// Stores `bytes` at `key` so that no reader ever sees a partial object.
    ///
    /// On the local disk object_store 0.12's `LocalFileSystem::put_opts`
    /// (`PutMode::Overwrite`) writes the payload into a new staging file beside
    /// the target (`<key>#<n>`, opened with `create_new`), closes it and
    /// `rename`s it over the target, which POSIX makes atomic: a reader opens
    /// either the old file or the new one, and an open old file stays whole.
    /// Its listings skip those staging names. An S3 PUT replaces the object
    /// atomically. Overwriting a key is allowed.
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        let path = checked_path(key)?;
        self.store.put(&path, PutPayload::from(bytes)).await?;
        Ok(())
    }

    /// The object at `key`, or None when there is none.
    pub async fn get(&self, key: &str) -> Result<Option<Bytes>, StorageError> {
        let path = checked_path(key)?;
        match self.store.get(&path).await {
            // On the local disk the file was opened by `get`, so a rename
            // that replaces it now does not change what is read.
            Ok(found) => Ok(Some(found.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes every object under `prefix/` (an asset's folder); no error when
    /// there is none. Objects under a longer name (`prefix2/…`) are kept.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<(), StorageError> {
        // An empty prefix would mean "everything": `checked_path` refuses it.
        let root = checked_path(prefix)?;
        // A folder-by-folder walk with `list_with_delimiter` (which gathers all
        // pages) needs no stream combinators; an asset has a handful of files.
        let mut folders = vec![root];
        while let Some(folder) = folders.pop() {
            let listed = self.store.list_with_delimiter(Some(&folder)).await?;
            for object in listed.objects {
                match self.store.delete(&object.location).await {
                    // Someone else deleted it meanwhile: the goal is reached.
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            folders.extend(listed.common_prefixes);
        }
        Ok(())
    }
}

/// Refuses any key that could leave its folder or that the stores would read
/// differently: empty, a leading `/`, an empty, `.` or `..` segment, a
/// backslash (a separator on Windows) or a control character such as NUL. The
/// keys come from UUIDs and preset names; this is defence in depth.
fn checked_path(key: &str) -> Result<Path, StorageError> {
    let refuse = |reason| {
        Err(StorageError::InvalidKey {
            key: key.to_owned(),
            reason,
        })
    };
    if key.is_empty() {
        return refuse("it is empty");
    }
    if key.starts_with('/') {
        return refuse("it starts with /");
    }
    if key.contains('\\') {
        return refuse("it contains a backslash");
    }
    if key.chars().any(char::is_control) {
        return refuse("it contains a control character");
    }
    for segment in key.split('/') {
        match segment {
            "" => return refuse("it has an empty segment"),
            "." | ".." => return refuse("it has a . or .. segment"),
            _ => {}
        }
    }
    Path::parse(key).or_else(|_| refuse("object_store refuses it"))
}

/// `rest` is what follows `file://`: `/abs/path`, or a path relative to `base`.
/// It is taken as written (no percent-decoding).
fn open_local(rest: &str, base: &FsPath) -> Result<Storage, String> {
    if rest.is_empty() {
        return Err(format!("the media storage URL names no folder: {ACCEPTED}"));
    }
    if rest.contains('\0') {
        return Err("the media storage path contains a NUL character".to_owned());
    }
    let given = FsPath::new(rest);
    if given.components().any(|c| c == Component::ParentDir) {
        return Err(format!(
            "the media storage path {rest:?} contains `..`: name the folder directly"
        ));
    }
    let dir: PathBuf = if given.is_absolute() {
        given.to_path_buf()
    } else {
        base.join(given)
    };
    // Created with the process's umask (usually 0755 folders, 0644 files), so
    // a web server running as another user can serve the files if wanted.
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("could not create the media folder {}: {e}", dir.display()))?;
    let dir = std::fs::canonicalize(&dir)
        .map_err(|e| format!("could not resolve the media folder {}: {e}", dir.display()))?;
    if !dir.is_dir() {
        return Err(format!("the media path {} is not a folder", dir.display()));
    }
    // A read-only folder should stop start-up, not the first upload.
    let probe = dir.join(".dispatch-write-check");
    std::fs::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| format!("the media folder {} is not writable: {e}", dir.display()))?;
    // The folder is the store's root (not a PrefixStore): every key resolves
    // beneath it, and automatic cleanup removes an asset's emptied folders
    // up to, never including, the root.
    let store = LocalFileSystem::new_with_prefix(&dir)
        .map_err(|e| format!("could not open the media folder {}: {e}", dir.display()))?
        .with_automatic_cleanup(true);
    Ok(Storage {
        store: Arc::new(store),
        description: format!("file://{}", dir.display()).into(),
    })
}

/// `s3://bucket/prefix`, configured by object_store's `AmazonS3Builder::from_env`
/// (it reads every `AWS_*` variable whose name it knows: AWS_ACCESS_KEY_ID,
/// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION, AWS_DEFAULT_REGION,
/// AWS_ENDPOINT_URL, AWS_ENDPOINT, AWS_ALLOW_HTTP, AWS_TIMEOUT, …) plus what
/// it misses or leaves to chance, below.
fn open_s3(url: &str) -> Result<Storage, String> {
    let parsed = url::Url::parse(url)
        .map_err(|e| format!("the media storage URL is not a valid s3:// URL ({e}): {ACCEPTED}"))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("the media storage s3:// URL must not carry credentials: \
                    set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead"
            .to_owned());
    }
    let bucket = parsed.host_str().unwrap_or_default();
    if bucket.is_empty() {
        return Err(format!(
            "the media storage URL {url:?} names no bucket: use s3://bucket/prefix"
        ));
    }
    if parsed.port().is_some() || parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(format!(
            "the media storage URL {url:?} must be just s3://bucket/prefix; \
             set the endpoint with AWS_ENDPOINT_URL"
        ));
    }
    // The path as written (Url would resolve `..` away and hide it).
    let after_bucket = &url["s3://".len()..];
    let prefix = after_bucket
        .split_once('/')
        .map_or("", |(_, p)| p)
        .trim_end_matches('/');
    let prefix = if prefix.is_empty() {
        None
    } else {
        Some(checked_path(prefix).map_err(|_| {
            format!(
                "the media storage URL {url:?} has a bad prefix (empty, `.` or `..` \
                 segments, backslashes and control characters are refused)"
            )
        })?)
    };

    let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
    // from_env visits the variables in no set order, so with both AWS_ENDPOINT
    // and AWS_ENDPOINT_URL set either could win; AWS_ENDPOINT_URL_S3 (the AWS
    // SDKs' per-service name) it does not know at all. Decide explicitly.
    let endpoint = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()));
    if let Some(endpoint) = &endpoint {
        builder = builder.with_endpoint(endpoint);
    }
    // Pin the timeouts (object_store 0.12's defaults happen to be the same)
    // unless the operator set AWS_CONNECT_TIMEOUT / AWS_TIMEOUT.
    if std::env::var_os("AWS_CONNECT_TIMEOUT").is_none() {
        builder = builder.with_config(
            AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout),
            CONNECT_TIMEOUT,
        );
    }
    if std::env::var_os("AWS_TIMEOUT").is_none() {
        builder = builder.with_config(
            AmazonS3ConfigKey::Client(ClientConfigKey::Timeout),
            REQUEST_TIMEOUT,
        );
    }
    builder = builder.with_retry(RetryConfig {
        backoff: BackoffConfig::default(),
        max_retries: MAX_RETRIES,
        retry_timeout: RETRY_TIMEOUT,
    });
    let allow_http = builder
        .get_config_value(&AmazonS3ConfigKey::Client(ClientConfigKey::AllowHttp))
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if let Some(endpoint) = &endpoint
        && endpoint.starts_with("http://")
        && !allow_http
    {
        return Err(format!(
            "the S3 endpoint {} is plain http: set AWS_ALLOW_HTTP=true to allow it",
            redacted(endpoint)
        ));
    }
    let region = builder.get_config_value(&AmazonS3ConfigKey::Region);
    let s3 = builder
        .build()
        .map_err(|e| format!("could not configure S3 media storage for {url:?}: {e}"))?;

    let place = match &prefix {
        Some(p) => format!("s3://{bucket}/{p}"),
        None => format!("s3://{bucket}"),
    };
    let description = match (&endpoint, region) {
        (Some(endpoint), _) => format!("{place} (endpoint {})", redacted(endpoint)),
        (None, Some(region)) => format!("{place} (region {region})"),
        (None, None) => place,
    };
    // AmazonS3 ignores the URL's path; the prefix is applied here.
    let store: Arc<dyn ObjectStore> = match prefix {
        Some(p) => Arc::new(PrefixStore::new(s3, p)),
        None => Arc::new(s3),
    };
    Ok(Storage {
        store,
        description: description.into(),
    })
}

/// An endpoint for logs: scheme, host, port and path, without any user or
/// password someone may have written into it.
fn redacted(endpoint: &str) -> String {
    match url::Url::parse(endpoint) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.to_string()
        }
        Err(_) => "(unparsable endpoint)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// A fresh folder under the system temp dir, removed on drop.
    struct TempDir(PathBuf);
    impl TempDir {
        fn new() -> Self {
            let dir =
                std::env::temp_dir().join(format!("dispatch-storage-{}", uuid::Uuid::now_v7()));
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn local(tmp: &TempDir) -> Storage {
        Storage::open("file://./media", &tmp.0).unwrap()
    }

    /// The shared behaviour, run on the local disk and on S3. `folder` keeps
    /// runs apart on a shared bucket.
    async fn round_trip(storage: &Storage, folder: &str) {
        let key = format!("{folder}/asset/w1024.webp");
        assert_eq!(storage.get(&key).await.unwrap(), None, "missing is None");
        storage
            .put(&key, Bytes::from_static(b"first"))
            .await
            .unwrap();
        assert_eq!(storage.get(&key).await.unwrap().unwrap(), &b"first"[..]);
        // Overwrite, with other bytes and again with the same.
        storage
            .put(&key, Bytes::from_static(b"second"))
            .await
            .unwrap();
        storage
            .put(&key, Bytes::from_static(b"second"))
            .await
            .unwrap();
        assert_eq!(storage.get(&key).await.unwrap().unwrap(), &b"second"[..]);

        // delete_prefix removes the folder, nested folders included, and only it.
        let sibling = format!("{folder}/asset2/w1024.webp");
        let other = format!("{folder}/other/w1024.webp");
        let nested = format!("{folder}/asset/deeper/x.bin");
        for k in [&sibling, &other, &nested] {
            storage.put(k, Bytes::from_static(b"keep?")).await.unwrap();
        }
        storage
            .delete_prefix(&format!("{folder}/asset"))
            .await
            .unwrap();
        assert_eq!(storage.get(&key).await.unwrap(), None);
        assert_eq!(storage.get(&nested).await.unwrap(), None);
        assert_eq!(storage.get(&sibling).await.unwrap().unwrap(), &b"keep?"[..]);
        assert_eq!(storage.get(&other).await.unwrap().unwrap(), &b"keep?"[..]);
        // Again, and on a folder that never existed: no error.
        storage
            .delete_prefix(&format!("{folder}/asset"))
            .await
            .unwrap();
        storage
            .delete_prefix(&format!("{folder}/never"))
            .await
            .unwrap();
        storage.delete_prefix(folder).await.unwrap();
        assert_eq!(storage.get(&sibling).await.unwrap(), None);
    }

    #[tokio::test]
    async fn local_round_trip_missing_overwrite_and_delete_prefix() {
        let tmp = TempDir::new();
        let storage = local(&tmp);
        round_trip(&storage, "0193a").await;
        // The emptied asset folders are gone too, the root stays.
        assert!(!tmp.0.join("media/0193a").exists());
        assert!(tmp.0.join("media").is_dir());
    }

    #[tokio::test]
    async fn bad_keys_are_refused_before_any_io() {
        let tmp = TempDir::new();
        let storage = local(&tmp);
        // A file outside the root that a traversal would reach.
        std::fs::write(tmp.0.join("secret"), b"s").unwrap();
        for key in [
            "",
            "../secret",
            "a/../../secret",
            "..",
            ".",
            "a/./b",
            "/etc/passwd",
            "a\\..\\secret",
            "a\0b",
            "a//b",
            "a/",
            "/",
        ] {
            assert!(
                matches!(storage.get(key).await, Err(StorageError::InvalidKey { .. })),
                "get {key:?}"
            );
            assert!(
                matches!(
                    storage.put(key, Bytes::from_static(b"x")).await,
                    Err(StorageError::InvalidKey { .. })
                ),
                "put {key:?}"
            );
            assert!(
                matches!(
                    storage.delete_prefix(key).await,
                    Err(StorageError::InvalidKey { .. })
                ),
                "delete_prefix {key:?}"
            );
        }
        assert_eq!(std::fs::read(tmp.0.join("secret")).unwrap(), b"s");
        // A normal key still works.
        storage
            .put("a/b.webp", Bytes::from_static(b"x"))
            .await
            .unwrap();
    }

    #[test]
    fn file_urls_resolve_against_base_and_create_the_folder() {
        let tmp = TempDir::new();
        let real = std::fs::canonicalize(&tmp.0).unwrap();
        let s = Storage::open("file://./media", &tmp.0).unwrap();
        assert_eq!(
            s.describe(),
            format!("file://{}", real.join("media").display())
        );
        assert!(real.join("media").is_dir());
        let s = Storage::open("file://pics/nested", &tmp.0).unwrap();
        assert_eq!(
            s.describe(),
            format!("file://{}", real.join("pics/nested").display())
        );
        let abs = real.join("elsewhere");
        let s = Storage::open(
            &format!("file://{}", abs.display()),
            FsPath::new("/nonexistent"),
        )
        .unwrap();
        assert_eq!(s.describe(), format!("file://{}", abs.display()));
        assert!(abs.is_dir());
    }

    #[tokio::test]
    async fn relative_url_stores_under_base() {
        let tmp = TempDir::new();
        let s = Storage::open("file://./x", &tmp.0).unwrap();
        s.put("k/v.bin", Bytes::from_static(b"here")).await.unwrap();
        assert_eq!(std::fs::read(tmp.0.join("x/k/v.bin")).unwrap(), b"here");
    }

    #[test]
    fn bad_urls_are_refused_with_a_sentence() {
        let tmp = TempDir::new();
        // A file where the folder should be.
        std::fs::write(tmp.0.join("afile"), b"").unwrap();
        for (url, says) in [
            ("", "unsupported scheme"),
            ("media", "unsupported scheme"),
            ("./media", "unsupported scheme"),
            (
                "http://user:pw@example.com/m",
                "unsupported scheme \"http\"",
            ),
            ("gs://bucket/m", "unsupported scheme \"gs\""),
            ("file://", "names no folder"),
            ("file://../media", "contains `..`"),
            ("file://./a/../../media", "contains `..`"),
            ("file:///tmp/../etc", "contains `..`"),
            ("file://./afile", "could not create the media folder"),
            ("s3://", "names no bucket"),
            ("s3:///prefix", "names no bucket"),
            ("s3://bucket/a/../b", "bad prefix"),
            ("s3://bucket/a//b", "bad prefix"),
            ("s3://bucket:9000/p", "must be just s3://bucket/prefix"),
            ("s3://bucket/p?x=1", "must be just s3://bucket/prefix"),
            ("s3://key:secret@bucket/p", "must not carry credentials"),
        ] {
            let err = Storage::open(url, &tmp.0)
                .err()
                .unwrap_or_else(|| panic!("{url:?} opened"));
            assert!(err.contains(says), "{url:?}: {err}");
            assert!(
                !err.contains("secret") && !err.contains(":pw"),
                "{url:?} leaks: {err}"
            );
        }
    }

    /// A writer replaces one 5 MB object with alternating payloads while a
    /// reader reads it 200 times: every read is one whole payload (the object
    /// exists before the reads start, so None would be a failure too).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn local_writes_are_atomic_for_readers() {
        const SIZE: usize = 5 * 1024 * 1024;
        let tmp = TempDir::new();
        let storage = local(&tmp);
        let a = Bytes::from(vec![b'a'; SIZE]);
        let b = Bytes::from((0..SIZE).map(|i| (i % 251) as u8).collect::<Vec<_>>());
        // Present from the start: a rename never leaves it missing either.
        storage.put("0193/w1024.webp", b.clone()).await.unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let writer = tokio::spawn({
            let (storage, a, b, stop) = (storage.clone(), a.clone(), b.clone(), stop.clone());
            async move {
                let mut writes = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    let payload = if writes.is_multiple_of(2) {
                        a.clone()
                    } else {
                        b.clone()
                    };
                    storage.put("0193/w1024.webp", payload).await.unwrap();
                    writes += 1;
                }
                writes
            }
        });
        let (mut seen_a, mut seen_b) = (0, 0);
        for _ in 0..200 {
            match storage.get("0193/w1024.webp").await.unwrap() {
                None => panic!("the object vanished while being replaced"),
                Some(got) if got == a => seen_a += 1,
                Some(got) if got == b => seen_b += 1,
                Some(got) => panic!(
                    "a torn read: {} bytes, starting {:?}",
                    got.len(),
                    &got[..got.len().min(8)]
                ),
            }
            tokio::task::yield_now().await;
        }
        stop.store(true, Ordering::Relaxed);
        let writes = writer.await.unwrap();
        eprintln!("{writes} writes; reads: {seen_a} a, {seen_b} b");
        assert!(writes >= 2, "the writer overlapped the reads");
    }

    /// The same behaviour against a real S3-compatible server (.ci/run starts
    /// moto and sets DISPATCH_TEST_S3_URL and the AWS_* variables).
    #[tokio::test]
    async fn s3_round_trip_missing_overwrite_and_delete_prefix() {
        let Ok(url) = std::env::var("DISPATCH_TEST_S3_URL") else {
            println!("skipped: DISPATCH_TEST_S3_URL is not set (.ci/run starts moto)");
            return;
        };
        let tmp = TempDir::new();
        let storage = Storage::open(&url, &tmp.0).unwrap();
        assert!(storage.describe().starts_with(url.trim_end_matches('/')));
        let folder = uuid::Uuid::now_v7().to_string();
        round_trip(&storage, &folder).await;
        // A larger object, as a rendition is.
        let big = Bytes::from(vec![7u8; 3 * 1024 * 1024]);
        storage
            .put(&format!("{folder}/big"), big.clone())
            .await
            .unwrap();
        assert_eq!(
            storage
                .get(&format!("{folder}/big"))
                .await
                .unwrap()
                .unwrap(),
            big
        );
        storage.delete_prefix(&folder).await.unwrap();
        assert_eq!(storage.get(&format!("{folder}/big")).await.unwrap(), None);
    }
}
