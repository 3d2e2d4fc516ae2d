//! Sample images made in code, for tests and the demo seed: a photo-like pattern
//! whose colour tells where a pixel came from (red grows left to right, green top to
//! bottom, blue is texture), in each accepted format, and JPEGs carrying the
//! metadata the media library reads (IPTC credits) or must strip (GPS EXIF).
//!
//! Sizes are clamped to what every encoder accepts (1 to 4096 a side); an encoder
//! failure, which that rules out, would give empty bytes rather than a panic.

use std::io::Cursor;

use image::codecs::gif::{GifEncoder, Repeat};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{DynamicImage, Frame, ImageEncoder, Rgb, RgbImage, RgbaImage};

fn clamp((width, height): (u32, u32)) -> (u32, u32) {
    (width.clamp(1, 4096), height.clamp(1, 4096))
}

/// The photo-like pattern: red = x position, green = y position, blue = a
/// deterministic texture (so lossless formats cannot cheat it away).
pub fn photo_like(width: u32, height: u32) -> RgbImage {
    let (width, height) = clamp((width, height));
    RgbImage::from_fn(width, height, |x, y| {
        let position = |at: u32, of: u32| -> u8 {
            u8::try_from(u64::from(at) * 255 / u64::from(of.saturating_sub(1).max(1)))
                .unwrap_or(u8::MAX)
        };
        // A cheap integer hash: noise with some low-frequency structure.
        let hash = (x / 3).wrapping_mul(73_856_093)
            ^ (y / 3).wrapping_mul(19_349_663)
            ^ (x.wrapping_add(y)).wrapping_mul(83_492_791);
        let texture = 96 + (hash >> 24) as u8 / 2;
        Rgb([position(x, width), position(y, height), texture])
    })
}

/// The pattern as a JPEG (quality 90), without metadata.
pub fn sample_jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = photo_like(width, height);
    let mut bytes = Vec::new();
    let written = JpegEncoder::new_with_quality(&mut bytes, 90).write_image(
        &image,
        image.width(),
        image.height(),
        image::ExtendedColorType::Rgb8,
    );
    if written.is_err() {
        return Vec::new();
    }
    bytes
}

/// A generated picture for the demo newsroom: a sky over a sea with a low sun
/// and a darker headland, `variant` moving the sun and tinting the light (quality 85).
pub fn scene_jpeg(width: u32, height: u32, variant: u32) -> Vec<u8> {
    let (width, height) = clamp((width, height));
    let (w, h) = (f64::from(width), f64::from(height));
    let sun = (w * (0.2 + 0.15 * f64::from(variant % 5)), h * 0.38);
    let tint = f64::from(variant % 4) * 18.0;
    let horizon = h * 0.55;
    let image = RgbImage::from_fn(width, height, |x, y| {
        let (x, y) = (f64::from(x), f64::from(y));
        let glow = (1.0 - ((x - sun.0).hypot(y - sun.1) / (h * 0.6))).clamp(0.0, 1.0);
        let headland = y > horizon - (w * 0.3 - x).max(0.0) * 0.25 && x < w * 0.3;
        let rgb = if headland {
            [30.0 + tint * 0.3, 42.0, 38.0]
        } else if y < horizon {
            let t = y / horizon;
            [
                70.0 + 150.0 * t + 80.0 * glow + tint,
                110.0 + 90.0 * t + 60.0 * glow,
                190.0 - 60.0 * t + 20.0 * glow - tint,
            ]
        } else {
            let t = (y - horizon) / (h - horizon);
            let ripple = ((y * 0.35).sin() * (x * 0.02).cos()) * 12.0;
            [
                30.0 + 60.0 * glow + ripple + tint * 0.5,
                70.0 - 30.0 * t + 40.0 * glow + ripple,
                110.0 - 40.0 * t + 20.0 * glow + ripple,
            ]
        };
        // Clamped to 0..=255 first, so the casts cannot wrap.
        Rgb(rgb.map(|c: f64| c.clamp(0.0, 255.0) as u8))
    });
    let mut bytes = Vec::new();
    let written = JpegEncoder::new_with_quality(&mut bytes, 85).write_image(
        &image,
        image.width(),
        image.height(),
        image::ExtendedColorType::Rgb8,
    );
    if written.is_err() {
        return Vec::new();
    }
    bytes
}

/// `jpeg` with marker segments inserted after SOI and the JFIF segment, where
/// metadata goes.
pub fn with_segments(jpeg: &[u8], segments: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut at = 2;
    if jpeg.get(2..4) == Some(&[0xFF, 0xE0])
        && let Some(length) = jpeg.get(4..6)
    {
        at = 4 + usize::from(u16::from_be_bytes([length[0], length[1]]));
    }
    let at = at.min(jpeg.len());
    let mut out = jpeg[..at].to_vec();
    for (marker, payload) in segments {
        let length = u16::try_from(payload.len() + 2).unwrap_or(u16::MAX);
        out.extend_from_slice(&[0xFF, *marker]);
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(payload);
    }
    out.extend_from_slice(&jpeg[at..]);
    out
}

/// One IPTC IIM dataset.
fn dataset(record: u8, number: u8, value: &[u8]) -> Vec<u8> {
    let mut data = vec![0x1C, record, number];
    data.extend_from_slice(&u16::try_from(value.len()).unwrap_or(0).to_be_bytes());
    data.extend_from_slice(value);
    data
}

/// An APP13 payload: "Photoshop 3.0" and an 8BIM 0x0404 resource holding `iim`.
pub fn photoshop_iptc(iim: &[u8]) -> Vec<u8> {
    let mut payload = b"Photoshop 3.0\0".to_vec();
    payload.extend_from_slice(b"8BIM");
    payload.extend_from_slice(&0x0404u16.to_be_bytes());
    payload.extend_from_slice(&[0, 0]); // empty name, padded to even
    payload.extend_from_slice(&u32::try_from(iim.len()).unwrap_or(0).to_be_bytes());
    payload.extend_from_slice(iim);
    if iim.len() % 2 == 1 {
        payload.push(0);
    }
    payload
}

/// A JPEG whose IPTC says: By-line "Jane Doe", Credit "Wire Agency", Copyright Notice
/// "© 2026 Wire Agency", Caption "Firefighters at dawn", taken 2026-03-14 06:30 +01:00.
pub fn iptc_sample_jpeg(width: u32, height: u32) -> Vec<u8> {
    let iim = [
        dataset(1, 90, b"\x1B%G"), // coded character set: UTF-8
        dataset(2, 80, b"Jane Doe"),
        dataset(2, 110, b"Wire Agency"),
        dataset(2, 116, "© 2026 Wire Agency".as_bytes()),
        dataset(2, 120, b"Firefighters at dawn"),
        dataset(2, 55, b"20260314"),
        dataset(2, 60, b"063000+0100"),
    ]
    .concat();
    with_segments(&sample_jpeg(width, height), &[(0xED, photoshop_iptc(&iim))])
}

/// A raw EXIF (TIFF) block with GPS position, camera serial number, Orientation
/// `orientation`, Artist "Exif Artist", Copyright "Exif Copyright" and
/// DateTimeOriginal 2025:11:02 14:15:16 at +02:00.
pub fn private_exif(orientation: u16) -> Vec<u8> {
    use exif::{Field, In, Rational, Tag, Value};
    let field = |tag: Tag, value: Value| Field {
        tag,
        ifd_num: In::PRIMARY,
        value,
    };
    let ascii = |text: &str| Value::Ascii(vec![text.as_bytes().to_vec()]);
    let degrees = |d: u32, m: u32, s100: u32| {
        Value::Rational(vec![
            Rational { num: d, denom: 1 },
            Rational { num: m, denom: 1 },
            Rational {
                num: s100,
                denom: 100,
            },
        ])
    };
    let fields = [
        field(Tag::Orientation, Value::Short(vec![orientation])),
        field(Tag::Make, ascii("Dispatch Test Camera")),
        field(Tag::Artist, ascii("Exif Artist")),
        field(Tag::Copyright, ascii("Exif Copyright")),
        field(Tag::BodySerialNumber, ascii("SN-0042-SECRET")),
        field(Tag::DateTimeOriginal, ascii("2025:11:02 14:15:16")),
        field(Tag::OffsetTimeOriginal, ascii("+02:00")),
        field(Tag::GPSLatitudeRef, ascii("N")),
        field(Tag::GPSLatitude, degrees(48, 51, 2400)),
        field(Tag::GPSLongitudeRef, ascii("E")),
        field(Tag::GPSLongitude, degrees(2, 21, 800)),
    ];
    let mut writer = exif::experimental::Writer::new();
    for field in &fields {
        writer.push_field(field);
    }
    let mut tiff = Cursor::new(Vec::new());
    if writer.write(&mut tiff, false).is_err() {
        return Vec::new();
    }
    tiff.into_inner()
}

/// A JPEG stored `width` x `height` with EXIF Orientation 6 (so displayed `height` x
/// `width`), GPS tags, a camera serial number and a comment: everything
/// [`super::metadata::strip`] must remove but the orientation.
pub fn gps_jpeg(width: u32, height: u32) -> Vec<u8> {
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend_from_slice(&private_exif(6));
    with_segments(
        &sample_jpeg(width, height),
        &[(0xE1, exif), (0xFE, b"shot at 48.85N 2.35E".to_vec())],
    )
}

/// The pattern as an RGBA PNG whose left quarter is half transparent.
pub fn sample_png(width: u32, height: u32) -> Vec<u8> {
    let rgb = photo_like(width, height);
    let quarter = rgb.width() / 4;
    let rgba = RgbaImage::from_fn(rgb.width(), rgb.height(), |x, y| {
        let [r, g, b] = rgb.get_pixel(x, y).0;
        image::Rgba([r, g, b, if x < quarter { 128 } else { 255 }])
    });
    let mut bytes = Vec::new();
    let written = PngEncoder::new(&mut bytes).write_image(
        &rgba,
        rgba.width(),
        rgba.height(),
        image::ExtendedColorType::Rgba8,
    );
    if written.is_err() {
        return Vec::new();
    }
    bytes
}

/// A looping two-frame GIF of the pattern (the second frame inverted), with a comment
/// extension after the header.
pub fn sample_gif(width: u32, height: u32) -> Vec<u8> {
    let first = DynamicImage::ImageRgb8(photo_like(width, height)).to_rgba8();
    let mut second = first.clone();
    for pixel in second.pixels_mut() {
        for channel in &mut pixel.0[..3] {
            *channel = 255 - *channel;
        }
    }
    let mut bytes = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut bytes);
        if encoder.set_repeat(Repeat::Infinite).is_err()
            || encoder
                .encode_frames([Frame::new(first), Frame::new(second)])
                .is_err()
        {
            return Vec::new();
        }
    }
    // After the header, logical screen and global colour table.
    let mut at = 13;
    if let Some(&packed) = bytes.get(10)
        && packed & 0x80 != 0
    {
        at += 3 << ((packed & 7) + 1);
    }
    if at > bytes.len() {
        return bytes;
    }
    let comment = b"made by Dispatch";
    let mut extension = vec![0x21, 0xFE, comment.len() as u8];
    extension.extend_from_slice(comment);
    extension.push(0);
    bytes.splice(at..at, extension);
    bytes
}

/// The pattern as a lossy WebP (quality 80).
pub fn sample_webp(width: u32, height: u32) -> Vec<u8> {
    let image = photo_like(width, height);
    match webp::Encoder::from_rgb(&image, image.width(), image.height()).encode_simple(false, 80.0)
    {
        Ok(memory) => memory.to_vec(),
        Err(_) => Vec::new(),
    }
}
