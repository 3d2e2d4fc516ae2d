//! What an uploaded file is, how big it is, and its pixels: the type sniffed from the
//! bytes alone, a header-only probe that refuses oversized images before anything is
//! allocated, and the full (bounded) decode that renditions start from.

use std::fmt;
use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// The image types Dispatch accepts. Anything else is refused at upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Jpeg,
    Png,
    Webp,
    Gif,
}

impl Format {
    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
            Format::Gif => "image/gif",
        }
    }

    pub fn ext(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Webp => "webp",
            Format::Gif => "gif",
        }
    }

    /// The format a file extension names (case-insensitive, without the dot).
    pub fn from_ext(ext: &str) -> Option<Format> {
        match ext.to_ascii_lowercase().as_str() {
            "jpg" | "jpeg" => Some(Format::Jpeg),
            "png" => Some(Format::Png),
            "webp" => Some(Format::Webp),
            "gif" => Some(Format::Gif),
            _ => None,
        }
    }

    /// The format a MIME type names; parameters (`; charset=…`) and case are ignored.
    pub fn from_mime(mime: &str) -> Option<Format> {
        let essence = mime.split(';').next().unwrap_or_default().trim();
        match essence.to_ascii_lowercase().as_str() {
            "image/jpeg" | "image/jpg" | "image/pjpeg" => Some(Format::Jpeg),
            "image/png" => Some(Format::Png),
            "image/webp" => Some(Format::Webp),
            "image/gif" => Some(Format::Gif),
            _ => None,
        }
    }

    /// The format of resized renditions "in the original format": GIF -> Png (first
    /// frame), others themselves. A resized animation would need every frame
    /// re-encoded, which is not worth it for news photos.
    pub fn still(self) -> Format {
        match self {
            Format::Gif => Format::Png,
            other => other,
        }
    }

    fn image_format(self) -> ImageFormat {
        match self {
            Format::Jpeg => ImageFormat::Jpeg,
            Format::Png => ImageFormat::Png,
            Format::Webp => ImageFormat::WebP,
            Format::Gif => ImageFormat::Gif,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "JPEG",
            Format::Png => "PNG",
            Format::Webp => "WebP",
            Format::Gif => "GIF",
        }
    }
}

/// Why a file is refused. The lead maps: Unsupported -> 415, TooManyPixels and Broken -> 422.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The whole sentence to show: what the file seems to be and what is accepted.
    Unsupported(String),
    TooManyPixels { width: u32, height: u32, limit: u64 },
    /// What is wrong, in our own words (never a decoder's message): "the file ends
    /// before the image data does".
    Broken(String),
}

impl Refusal {
    /// A sentence for the problem+json detail, no internals.
    pub fn message(&self) -> String {
        match self {
            Refusal::Unsupported(message) => message.clone(),
            Refusal::TooManyPixels {
                width,
                height,
                limit,
            } => format!(
                "The image is {width}x{height} pixels ({} megapixels); at most {} megapixels are accepted.",
                megapixels(u64::from(*width) * u64::from(*height)),
                megapixels(*limit)
            ),
            Refusal::Broken(reason) => {
                format!("The image file is damaged or incomplete: {reason}.")
            }
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Refusal {}

/// Pixels as megapixels with one decimal, as people say it ("24.2").
fn megapixels(pixels: u64) -> String {
    let tenths = (pixels + 50_000) / 100_000;
    format!("{}.{}", tenths / 10, tenths % 10)
}

const ACCEPTED: &str = "JPEG, PNG, WebP or GIF";

fn unsupported(what: Option<&str>) -> Refusal {
    Refusal::Unsupported(match what {
        Some(what) => format!("The file is {what}, which is not accepted; upload a {ACCEPTED} image."),
        None => format!("The file is not a recognised image; upload a {ACCEPTED} image."),
    })
}

/// The type decided by the bytes only (magic numbers), never by a name or header.
pub fn sniff(bytes: &[u8]) -> Result<Format, Refusal> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(Format::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(Format::Png);
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Ok(Format::Gif);
    }
    if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        return Ok(Format::Webp);
    }
    Err(recognise_refused(bytes))
}

/// Names what a refused file is, as far as its first bytes tell.
fn recognise_refused(bytes: &[u8]) -> Refusal {
    if bytes.is_empty() {
        return Refusal::Unsupported(format!(
            "The file is empty; upload a {ACCEPTED} image."
        ));
    }
    if looks_like_svg(bytes) {
        return Refusal::Unsupported(format!(
            "SVG images are refused because they can carry scripts; upload a {ACCEPTED} image."
        ));
    }
    if bytes.starts_with(b"%PDF-") {
        return unsupported(Some("a PDF document"));
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        let what = match &bytes[8..12] {
            b"avif" | b"avis" => "an AVIF image",
            b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1" => {
                "a HEIC/HEIF image"
            }
            _ => "a video or ISO media file",
        };
        return unsupported(Some(what));
    }
    if bytes.starts_with(b"BM") {
        return unsupported(Some("a BMP image"));
    }
    if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        return unsupported(Some("a TIFF image"));
    }
    if bytes.starts_with(b"RIFF") {
        return unsupported(Some("a RIFF file that is not WebP"));
    }
    if looks_like_text(bytes) {
        return unsupported(Some("text"));
    }
    unsupported(None)
}

/// The start of `bytes` as text without a UTF-8/UTF-16 byte order mark and leading
/// whitespace, if it decodes as UTF-8 (a cut in the middle of a character is fine).
fn text_start(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(4096)];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()]).ok()?,
        Err(_) => return None,
    };
    Some(text.trim_start().to_ascii_lowercase())
}

/// SVG is XML; any markup whose first kilobytes mention `<svg` counts, with or without
/// a prolog, doctype or comments before it (UTF-16 SVG is caught by its NULs as "text"
/// failing and then as unrecognised, which is also a refusal).
fn looks_like_svg(bytes: &[u8]) -> bool {
    match text_start(bytes) {
        Some(text) => text.starts_with('<') && text.contains("<svg"),
        None => false,
    }
}

fn looks_like_text(bytes: &[u8]) -> bool {
    match text_start(bytes) {
        Some(text) => !text.chars().any(|c| c.is_control() && !c.is_whitespace()),
        None => false,
    }
}

/// What [`probe`] learns from a header: the type and the size as displayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    pub format: Format,
    /// Width as displayed: EXIF orientations 5 to 8 swap the stored width and height.
    pub width: u32,
    pub height: u32,
}

/// Header only (no full decode): sniff, dimensions, pixel limit (width*height >
/// max_pixels -> TooManyPixels, refused before any decoder runs); a header that cannot
/// be read -> Broken.
pub fn probe(bytes: &[u8], max_pixels: u64) -> Result<Probe, Refusal> {
    let format = sniff(bytes)?;
    let (decoder, orientation) = open(bytes, format, max_pixels)?;
    let (width, height) = displayed(decoder.dimensions(), orientation);
    Ok(Probe {
        format,
        width,
        height,
    })
}

/// Full decode for renditions: the first frame of a GIF, EXIF orientation applied,
/// with image::Limits set from max_pixels (so a lying header cannot allocate more); a
/// truncated or corrupt file -> Broken.
pub fn decode(bytes: &[u8], format: Format, max_pixels: u64) -> Result<DynamicImage, Refusal> {
    if sniff(bytes)? != format {
        return Err(Refusal::Broken(format!(
            "the file is not the {} it was said to be",
            format.name()
        )));
    }
    // zune-jpeg (behind `image`) pads a JPEG that stops early with grey instead of
    // failing, so a JPEG must be checked to reach its end-of-image marker first.
    if format == Format::Jpeg && jpeg_end(bytes).is_none() {
        return Err(Refusal::Broken(
            "the JPEG ends before its image data does".into(),
        ));
    }
    let (decoder, orientation) = open(bytes, format, max_pixels)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(|_| {
        Refusal::Broken(format!("the {} image data cannot be decoded", format.name()))
    })?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// A decoder past the header, with the pixel limit checked and the orientation read.
fn open(
    bytes: &[u8],
    format: Format,
    max_pixels: u64,
) -> Result<(impl ImageDecoder + '_, Orientation), Refusal> {
    // A PNG or GIF header states its size in fixed places: refuse a huge one before
    // any decoder is built (the PNG decoder wants to see image data to open at all).
    if let Some((width, height)) = declared_size(bytes, format) {
        check_pixels(width, height, max_pixels)?;
    }
    let broken_header = || Refusal::Broken(format!("the {} header cannot be read", format.name()));
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    let mut limits = Limits::default();
    // 8 bytes a pixel is the widest buffer a decoder fills (16-bit RGBA); the slack is
    // for a decoder's own tables and rows.
    limits.max_alloc = Some(max_pixels.saturating_mul(8).saturating_add(64 << 20));
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| match e {
        image::ImageError::Limits(_) => match declared_size(bytes, format) {
            Some((width, height)) => Refusal::TooManyPixels {
                width,
                height,
                limit: max_pixels,
            },
            None => broken_header(),
        },
        _ => broken_header(),
    })?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(broken_header());
    }
    check_pixels(width, height, max_pixels)?;
    // A malformed EXIF block should not cost the photo: it is shown as stored.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    Ok((decoder, orientation))
}

fn check_pixels(width: u32, height: u32, max_pixels: u64) -> Result<(), Refusal> {
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(Refusal::TooManyPixels {
            width,
            height,
            limit: max_pixels,
        });
    }
    Ok(())
}

/// The stored size as displayed after `orientation`.
fn displayed((width, height): (u32, u32), orientation: Orientation) -> (u32, u32) {
    match orientation {
        Orientation::Rotate90
        | Orientation::Rotate270
        | Orientation::Rotate90FlipH
        | Orientation::Rotate270FlipH => (height, width),
        _ => (width, height),
    }
}

/// The size a PNG's IHDR or a GIF's logical screen declares (the GIF's frames must fit
/// in it), read from fixed offsets. JPEG and WebP sizes come from the decoder, which
/// reads them without allocating for the pixels (and neither can exceed 65535 a side).
fn declared_size(bytes: &[u8], format: Format) -> Option<(u32, u32)> {
    match format {
        Format::Png => {
            if bytes.get(12..16)? != b"IHDR" {
                return None;
            }
            let width = u32::from_be_bytes(bytes.get(16..20)?.try_into().ok()?);
            let height = u32::from_be_bytes(bytes.get(20..24)?.try_into().ok()?);
            Some((width, height))
        }
        Format::Gif => {
            let width = u16::from_le_bytes(bytes.get(6..8)?.try_into().ok()?);
            let height = u16::from_le_bytes(bytes.get(8..10)?.try_into().ok()?);
            Some((u32::from(width), u32::from(height)))
        }
        Format::Jpeg | Format::Webp => None,
    }
}

/// One marker segment of a JPEG: its marker, where it starts (at the 0xFF) and ends,
/// and its payload (after the two length bytes).
#[derive(Debug, Clone, Copy)]
pub(super) struct JpegSegment<'a> {
    pub marker: u8,
    pub start: usize,
    pub end: usize,
    pub payload: &'a [u8],
}

/// The layout of a JPEG's first image: every marker segment in order (those between
/// progressive scans too) and the byte ranges of entropy-coded data between them,
/// up to the EOI marker. `None` when the file stops before its EOI or a segment runs
/// past the end.
#[derive(Debug, Default)]
pub(super) struct JpegLayout<'a> {
    /// Segments and entropy-coded runs in file order; an entropy run has marker 0.
    pub parts: Vec<JpegSegment<'a>>,
    /// The offset just past the EOI marker; anything after it (MPF images, trailers)
    /// is not part of the first image.
    pub end: usize,
}

pub(super) fn jpeg_layout(bytes: &[u8]) -> Option<JpegLayout<'_>> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut layout = JpegLayout::default();
    let mut at = 2;
    loop {
        // Fill bytes (0xFF repeated) may precede a marker.
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        let start = at;
        while *bytes.get(at)? == 0xFF {
            at += 1;
        }
        let marker = *bytes.get(at)?;
        at += 1;
        match marker {
            0xD9 => {
                layout.end = at;
                return Some(layout);
            }
            // Markers without a length: a stray SOI, TEM, restart markers.
            0x01 | 0xD0..=0xD8 => continue,
            _ => {}
        }
        let length = usize::from(u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]));
        if length < 2 {
            return None;
        }
        let end = at.checked_add(length)?;
        let payload = bytes.get(at + 2..end)?;
        layout.parts.push(JpegSegment {
            marker,
            start,
            end,
            payload,
        });
        at = end;
        if marker == 0xDA {
            // Entropy-coded data runs until a 0xFF that is neither a stuffed 0x00 nor
            // a restart marker.
            let scan = at;
            loop {
                let byte = *bytes.get(at)?;
                if byte == 0xFF {
                    let next = *bytes.get(at + 1)?;
                    if next != 0x00 && !(0xD0..=0xD7).contains(&next) && next != 0xFF {
                        break;
                    }
                    if next == 0xFF {
                        // Fill bytes before the next marker.
                        at += 1;
                        continue;
                    }
                    at += 2;
                } else {
                    at += 1;
                }
            }
            // `at` sits on the last 0xFF before the marker; the marker loop skips fills.
            layout.parts.push(JpegSegment {
                marker: 0,
                start: scan,
                end: at,
                payload: &bytes[scan..at],
            });
        }
    }
}

/// The offset just past the first image's EOI marker, if the JPEG is whole.
pub(super) fn jpeg_end(bytes: &[u8]) -> Option<usize> {
    jpeg_layout(bytes).map(|layout| layout.end)
}

/// The marker segments before a JPEG's first scan (where all metadata lives), as far
/// as they can be read: a truncated or garbled file gives the segments before the damage.
pub(super) fn jpeg_header(bytes: &[u8]) -> Vec<JpegSegment<'_>> {
    let mut segments = Vec::new();
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return segments;
    }
    let mut at = 2;
    while bytes.get(at) == Some(&0xFF) {
        let start = at;
        while bytes.get(at) == Some(&0xFF) {
            at += 1;
        }
        let Some(&marker) = bytes.get(at) else {
            break;
        };
        at += 1;
        if marker == 0xD9 || marker == 0xDA {
            break;
        }
        if marker == 0x01 || (0xD0..=0xD8).contains(&marker) {
            continue;
        }
        let (Some(&high), Some(&low)) = (bytes.get(at), bytes.get(at + 1)) else {
            break;
        };
        let length = usize::from(u16::from_be_bytes([high, low]));
        let Some(payload) = bytes.get(at + 2..at + length.max(2)) else {
            break;
        };
        segments.push(JpegSegment {
            marker,
            start,
            end: at + length,
            payload,
        });
        at += length.max(2);
    }
    segments
}
