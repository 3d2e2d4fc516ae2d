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
    TooManyPixels {
        width: u32,
        height: u32,
        limit: u64,
    },
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
        Some(what) => {
            format!("The file is {what}, which is not accepted; upload a {ACCEPTED} image.")
        }
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
        return Refusal::Unsupported(format!("The file is empty; upload a {ACCEPTED} image."));
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
    // The GIF decoder stops after the first frame; a later frame cut short would still
    // break the original when served.
    if format == Format::Gif && gif_blocks(bytes).is_none() {
        return Err(Refusal::Broken(
            "the GIF ends before its image data does".into(),
        ));
    }
    let (decoder, orientation) = open(bytes, format, max_pixels)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(|_| {
        Refusal::Broken(format!(
            "the {} image data cannot be decoded",
            format.name()
        ))
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

/// A GIF's layout: the length of its header (signature, logical screen and global
/// colour table) and the byte ranges of its blocks (extensions and images) before the
/// trailer. `None` when a block is cut short or unknown. A file that ends at a block
/// boundary without its trailer is accepted, as browsers do.
pub(super) fn gif_blocks(bytes: &[u8]) -> Option<(usize, Vec<(usize, usize)>)> {
    let screen = bytes.get(..13)?;
    let mut at = 13;
    if screen[10] & 0x80 != 0 {
        at += 3 << ((screen[10] & 7) + 1);
    }
    let header = at;
    bytes.get(..header)?;
    let mut blocks = Vec::new();
    loop {
        let end = match bytes.get(at) {
            None | Some(0x3B) => return Some((header, blocks)),
            Some(0x2C) => {
                let descriptor = bytes.get(at..at + 10)?;
                let mut end = at + 10;
                if descriptor[9] & 0x80 != 0 {
                    end += 3 << ((descriptor[9] & 7) + 1);
                }
                // The LZW minimum code size, then the data sub-blocks.
                sub_blocks_end(bytes, end + 1)?
            }
            Some(0x21) => sub_blocks_end(bytes, at + 2)?,
            Some(_) => return None,
        };
        blocks.push((at, end));
        at = end;
    }
}

/// The offset after a chain of GIF data sub-blocks starting at `at` (its terminator
/// included).
fn sub_blocks_end(bytes: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let length = usize::from(*bytes.get(at)?);
        at += 1;
        if length == 0 {
            return Some(at);
        }
        at += length;
        if at > bytes.len() {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::fixtures;
    use std::time::{Duration, Instant};

    const LIMIT: u64 = 50_000_000;

    fn unsupported_message(bytes: &[u8]) -> String {
        match sniff(bytes) {
            Err(Refusal::Unsupported(message)) => message,
            other => panic!("expected Unsupported, got {other:?}"),
        }
    }

    #[test]
    fn sniffs_each_accepted_format_by_its_bytes() {
        assert_eq!(sniff(&fixtures::sample_jpeg(8, 8)), Ok(Format::Jpeg));
        assert_eq!(sniff(&fixtures::sample_png(8, 8)), Ok(Format::Png));
        assert_eq!(sniff(&fixtures::sample_gif(8, 8)), Ok(Format::Gif));
        assert_eq!(sniff(&fixtures::sample_webp(8, 8)), Ok(Format::Webp));
    }

    #[test]
    fn refuses_what_is_not_an_accepted_image_and_says_what_it_is() {
        // Text in a file named .jpg: the name plays no part.
        let text = unsupported_message(b"Hello, this is not a photo.\n");
        assert!(text.contains("text"), "{text}");
        assert!(text.contains("JPEG, PNG, WebP or GIF"), "{text}");

        for svg in [
            &b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"[..],
            b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- drawn -->\n<svg width=\"10\"/>",
            b"\xEF\xBB\xBF  <?xml version=\"1.0\"?><!DOCTYPE svg><SVG/>",
        ] {
            let message = unsupported_message(svg);
            assert!(
                message.contains("SVG") && message.contains("scripts"),
                "{message}"
            );
        }

        let pdf = unsupported_message(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj");
        assert!(pdf.contains("PDF"), "{pdf}");
        let avif = unsupported_message(b"\0\0\0\x1Cftypavif\0\0\0\0avifmif1");
        assert!(avif.contains("AVIF"), "{avif}");
        let heic = unsupported_message(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic");
        assert!(heic.contains("HEIC"), "{heic}");
        assert!(unsupported_message(b"BM\x36\0\0\0\0\0").contains("BMP"));
        assert!(unsupported_message(b"II*\0\x08\0\0\0").contains("TIFF"));
        assert!(unsupported_message(b"").contains("empty"));
        let unknown = unsupported_message(&[0x00, 0x01, 0x02, 0x03, 0xFE]);
        assert!(unknown.contains("not a recognised image"), "{unknown}");
        // A cut-off PNG signature is not a PNG.
        assert!(sniff(b"\x89PNG\r\n").is_err());
    }

    #[test]
    fn formats_name_their_type_and_extension() {
        for format in [Format::Jpeg, Format::Png, Format::Webp, Format::Gif] {
            assert_eq!(Format::from_ext(format.ext()), Some(format));
            assert_eq!(Format::from_mime(format.mime()), Some(format));
        }
        assert_eq!(Format::from_ext("JPEG"), Some(Format::Jpeg));
        assert_eq!(
            Format::from_mime("image/png; charset=binary"),
            Some(Format::Png)
        );
        assert_eq!(Format::from_ext("svg"), None);
        assert_eq!(Format::from_mime("image/svg+xml"), None);
        assert_eq!(Format::Gif.still(), Format::Png);
        assert_eq!(Format::Webp.still(), Format::Webp);
    }

    /// The 8-byte signature and an IHDR chunk with a correct CRC, and no image data.
    fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend_from_slice(&width.to_be_bytes());
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
        let crc = crc32(&ihdr);
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend_from_slice(&13u32.to_be_bytes());
        png.extend_from_slice(&ihdr);
        png.extend_from_slice(&crc.to_be_bytes());
        png
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &byte in data {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn a_huge_declared_png_is_refused_from_its_header_fast() {
        let bomb = png_header(100_000, 100_000);
        assert_eq!(bomb.len(), 33);
        let started = Instant::now();
        let refusal = probe(&bomb, LIMIT);
        assert!(started.elapsed() < Duration::from_millis(50));
        assert_eq!(
            refusal,
            Err(Refusal::TooManyPixels {
                width: 100_000,
                height: 100_000,
                limit: LIMIT
            })
        );
        assert!(decode(&bomb, Format::Png, LIMIT).is_err());
        let message = refusal.err().map(|r| r.message()).unwrap_or_default();
        assert!(
            message.contains("100000x100000") && message.contains("50.0"),
            "{message}"
        );
        // Within the limit, the same header without data cannot be read: Broken.
        assert!(matches!(
            probe(&png_header(10, 10), LIMIT),
            Err(Refusal::Broken(_))
        ));
    }

    #[test]
    fn the_pixel_limit_counts_width_times_height() {
        let jpeg = fixtures::sample_jpeg(100, 50);
        assert!(probe(&jpeg, 5000).is_ok());
        assert!(matches!(
            probe(&jpeg, 4999),
            Err(Refusal::TooManyPixels {
                width: 100,
                height: 50,
                ..
            })
        ));
        assert!(matches!(
            decode(&jpeg, Format::Jpeg, 4999),
            Err(Refusal::TooManyPixels { .. })
        ));
    }

    #[test]
    fn probe_reads_each_format_header() {
        for (bytes, format) in [
            (fixtures::sample_jpeg(30, 20), Format::Jpeg),
            (fixtures::sample_png(30, 20), Format::Png),
            (fixtures::sample_gif(30, 20), Format::Gif),
            (fixtures::sample_webp(30, 20), Format::Webp),
        ] {
            assert_eq!(
                probe(&bytes, LIMIT),
                Ok(Probe {
                    format,
                    width: 30,
                    height: 20
                })
            );
            let image = decode(&bytes, format, LIMIT).map_err(|r| r.message());
            assert_eq!(image.map(|i| (i.width(), i.height())), Ok((30, 20)));
        }
    }

    #[test]
    fn orientation_6_swaps_probe_and_decoded_dimensions() {
        let jpeg = fixtures::gps_jpeg(40, 20);
        let probe = probe(&jpeg, LIMIT).map(|p| (p.width, p.height));
        assert_eq!(probe, Ok((20, 40)));
        let image = decode(&jpeg, Format::Jpeg, LIMIT).map(|i| (i.width(), i.height()));
        assert_eq!(image, Ok((20, 40)));
    }

    #[test]
    fn a_jpeg_cut_short_is_broken_at_decode() {
        let jpeg = fixtures::sample_jpeg(400, 300);
        let cut = &jpeg[..jpeg.len() * 6 / 10];
        // The header is intact, so the probe passes; the pixels are missing.
        assert!(probe(cut, LIMIT).is_ok());
        assert!(matches!(
            decode(cut, Format::Jpeg, LIMIT),
            Err(Refusal::Broken(_))
        ));
        // Trailing bytes after the end marker (cameras add some) are fine.
        let mut trailer = jpeg.clone();
        trailer.extend_from_slice(b"\0\0trailer");
        assert!(decode(&trailer, Format::Jpeg, LIMIT).is_ok());
    }

    #[test]
    fn other_formats_cut_short_are_broken_too() {
        for (bytes, format) in [
            (fixtures::sample_png(200, 100), Format::Png),
            (fixtures::sample_gif(200, 100), Format::Gif),
            (fixtures::sample_webp(200, 100), Format::Webp),
        ] {
            let cut = &bytes[..bytes.len() * 6 / 10];
            let decoded = decode(cut, format, LIMIT);
            assert!(matches!(decoded, Err(Refusal::Broken(_))), "{format:?}");
        }
    }

    #[test]
    fn decode_refuses_bytes_of_another_format() {
        let png = fixtures::sample_png(4, 4);
        assert!(matches!(
            decode(&png, Format::Jpeg, LIMIT),
            Err(Refusal::Broken(_))
        ));
        assert!(matches!(
            decode(b"<svg/>", Format::Png, LIMIT),
            Err(Refusal::Unsupported(_))
        ));
    }

    #[test]
    fn garbage_after_a_signature_never_panics() {
        let mut seed = 7u32;
        for length in 0..300 {
            for signature in [
                &b"\xFF\xD8\xFF"[..],
                b"\x89PNG\r\n\x1a\n",
                b"GIF89a",
                b"RIFF\0\0\0\0WEBP",
            ] {
                let mut bytes = signature.to_vec();
                for _ in 0..length {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    bytes.push((seed >> 16) as u8);
                }
                let _ = probe(&bytes, LIMIT);
                if let Ok(format) = sniff(&bytes) {
                    let _ = decode(&bytes, format, LIMIT);
                }
            }
        }
    }
}
