//! The media library as the rest of the server sees it: the store the files live in,
//! the settings, and the slots image work runs in. Decoding and encoding happen on
//! the blocking pool, at most `DISPATCH_MEDIA_CONCURRENCY` at a time (more wait
//! their turn, up to [`QUEUE_WAIT`]), so that uploads never starve the API's async
//! threads and memory stays bounded; a rendition asked for by many readers at once
//! is made once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ::image::DynamicImage;
use bytes::Bytes;
use tokio::sync::Semaphore;
use uuid::Uuid;

use super::image::{self, Format, Refusal};
use super::metadata::{self, Embedded};
use super::render;
use super::renditions::{self, Preset, Rendition, Source};
use super::storage::Storage;
use crate::config::MediaConfig;
use crate::digest::sha256_hex;
use crate::error::{ApiError, FieldError};

/// How long image work waits for a slot before the request is refused (503).
pub const QUEUE_WAIT: Duration = Duration::from_secs(30);

/// Memory for decoded originals kept between the renditions of one asset: the first
/// request of a rendition decodes the original, and the others asked for soon after
/// (a page's `srcset`, a CDN warming up) reuse its pixels instead of decoding it again.
const DECODED_BYTES: u64 = 256 * 1024 * 1024;
/// How long a decoded original is kept once nobody uses it.
const DECODED_IDLE: Duration = Duration::from_secs(60);

/// What an upload turned out to be.
#[derive(Debug, Clone)]
pub struct Ingested {
    pub format: Format,
    pub width: u32,
    pub height: u32,
    /// SHA-256 of the uploaded bytes, lower-case hex.
    pub hash: String,
    pub byte_size: usize,
    /// Credit, source, copyright, caption and date found in the file.
    pub embedded: Embedded,
    /// The file as it will be served (private metadata removed unless kept).
    pub served: Bytes,
}

/// The server's media library.
pub struct Library {
    pub storage: Storage,
    pub config: MediaConfig,
    slots: Semaphore,
    /// The renditions being made now, by storage key: later askers wait for the first.
    making: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Decoded originals, by asset, bounded in bytes (see [`DECODED_BYTES`]).
    decoded: moka::sync::Cache<Uuid, Arc<DynamicImage>>,
}

/// The 422 or 415 of a refused file.
pub fn refused(refusal: &Refusal) -> ApiError {
    let message = refusal.message();
    match refusal {
        Refusal::Unsupported(_) => ApiError::UnsupportedMediaType(message),
        Refusal::TooManyPixels { .. } | Refusal::Broken(_) => ApiError::Unprocessable(
            format!("`file`: {message}"),
            vec![FieldError::new("file", message)],
        ),
    }
}

fn storage_failed(err: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %err, "media storage failed");
    ApiError::ServiceUnavailable(
        "The media storage is not available now; try again shortly.".into(),
        5,
    )
}

/// Runs `work` on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await.map_err(|err| {
        tracing::error!(error = %err, "image work panicked or was cancelled");
        ApiError::Internal
    })
}

impl Library {
    pub fn new(storage: Storage, config: MediaConfig) -> Self {
        Self {
            slots: Semaphore::new(config.concurrency.max(1)),
            storage,
            config,
            making: Mutex::new(HashMap::new()),
            decoded: moka::sync::Cache::builder()
                .max_capacity(DECODED_BYTES)
                .weigher(|_, image: &Arc<DynamicImage>| {
                    u32::try_from(image.as_bytes().len()).unwrap_or(u32::MAX)
                })
                .time_to_idle(DECODED_IDLE)
                .build(),
        }
    }

    /// Runs `work` on the blocking pool in one of the slots.
    async fn in_slot<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let _slot = self.slot().await?;
        blocking(work).await
    }

    /// One of the slots, waited for up to [`QUEUE_WAIT`] (then a 503).
    async fn slot(&self) -> Result<tokio::sync::SemaphorePermit<'_>, ApiError> {
        match tokio::time::timeout(QUEUE_WAIT, self.slots.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(ApiError::ServiceUnavailable(
                "Too many images are being processed; try again shortly.".into(),
                5,
            )),
        }
    }

    /// Checks an upload and reads it: its type by its bytes (415 unless JPEG, PNG,
    /// WebP or GIF), its size from its header (422 above the pixel limit, before
    /// anything is decoded), a full decode (422 for a truncated or corrupt file), its
    /// embedded news metadata, and the bytes to serve.
    pub async fn ingest(&self, bytes: Bytes) -> Result<Ingested, ApiError> {
        let max_pixels = self.config.max_pixels;
        let keep = self.config.keep_gps;
        self.in_slot(move || -> Result<Ingested, Refusal> {
            let probe = image::probe(&bytes, max_pixels)?;
            // Decoded once to prove it whole; the pixels are dropped at once.
            drop(image::decode(&bytes, probe.format, max_pixels)?);
            let embedded = metadata::extract(&bytes, probe.format);
            let served = metadata::strip(&bytes, probe.format, keep)?;
            Ok(Ingested {
                format: probe.format,
                width: probe.width,
                height: probe.height,
                hash: sha256_hex(&bytes),
                byte_size: bytes.len(),
                embedded,
                served: Bytes::from(served),
            })
        })
        .await?
        .map_err(|r| refused(&r))
    }

    /// Stores an asset's original (as served), before its row is written.
    pub async fn store_original(
        &self,
        id: Uuid,
        format: Format,
        served: Bytes,
    ) -> Result<(), ApiError> {
        let name = format!("original.{}", format.ext());
        self.storage
            .put(&renditions::key(id, &name), served)
            .await
            .map_err(storage_failed)
    }

    /// Removes every file of an asset (its row is gone or never came).
    pub async fn remove(&self, id: Uuid) {
        self.decoded.invalidate(&id);
        if let Err(err) = self.storage.delete_prefix(&id.to_string()).await {
            tracing::warn!(error = %err, asset = %id, "the files of a removed asset stay in storage");
        }
    }

    /// A stored file of asset `id`, if it exists (whatever the asset's state now).
    pub async fn stored(&self, id: Uuid, file_name: &str) -> Result<Option<Bytes>, ApiError> {
        if !renditions::well_formed(file_name) {
            return Ok(None);
        }
        self.storage
            .get(&renditions::key(id, file_name))
            .await
            .map_err(storage_failed)
    }

    /// A rendition of asset `id`, made and stored on first request (once, however many
    /// ask at the same time). `None` when the original is not in storage.
    pub async fn rendition(
        &self,
        id: Uuid,
        source: Source,
        rendition: Rendition,
    ) -> Result<Option<Bytes>, ApiError> {
        let file_name = source.file_name(rendition);
        let key = renditions::key(id, &file_name);
        let turn = {
            let mut making = self.making.lock().unwrap_or_else(|e| e.into_inner());
            making.entry(key.clone()).or_default().clone()
        };
        let result = async {
            let _mine = turn.lock().await;
            if let Some(done) = self.storage.get(&key).await.map_err(storage_failed)? {
                return Ok(Some(done));
            }
            // The original itself is served from storage or not at all.
            let Some(shape) = rendition.preset.shape() else {
                return Ok(None);
            };
            // A slot first, then the original: requests waiting their turn hold no
            // copy of it (a 12-megapixel JPEG is some 5 MB).
            let _slot = self.slot().await?;
            let pixels = match self.decoded.get(&id) {
                Some(pixels) => Ok(pixels),
                None => {
                    let original = Rendition {
                        preset: Preset::Original,
                        format: source.format,
                    };
                    let Some(bytes) = self
                        .storage
                        .get(&renditions::key(id, &source.file_name(original)))
                        .await
                        .map_err(storage_failed)?
                    else {
                        return Ok(None);
                    };
                    Err(bytes)
                }
            };
            let max_pixels = self.config.max_pixels;
            let decoded = self.decoded.clone();
            let made = blocking(move || -> Result<Vec<u8>, Refusal> {
                let pixels = match pixels {
                    Ok(pixels) => pixels,
                    // One decode for the renditions asked for at about the same time:
                    // the others wait for it here (on the blocking pool) and share it.
                    Err(bytes) => decoded
                        .try_get_with(id, || {
                            image::decode(&bytes, source.format, max_pixels).map(Arc::new)
                        })
                        .map_err(|refusal| (*refusal).clone())?,
                };
                render::render(&pixels, shape, source.focal, rendition.format)
            })
            .await?
            .map_err(|r| {
                    tracing::error!(asset = %id, problem = %r.message(), "a stored original did not render");
                    ApiError::Internal
                })?;
            let made = Bytes::from(made);
            self.storage
                .put(&key, made.clone())
                .await
                .map_err(storage_failed)?;
            Ok(Some(made))
        }
        .await;
        let mut making = self.making.lock().unwrap_or_else(|e| e.into_inner());
        if Arc::strong_count(&turn) <= 2 {
            making.remove(&key);
        }
        result
    }
}
