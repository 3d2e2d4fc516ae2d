//! Renditions: the size and crop of a preset shape (computed without decoding), and the
//! resized, re-encoded file, which carries no metadata at all.

use std::borrow::Cow;
use std::io::Cursor;

use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::{DynamicImage, ImageEncoder, RgbImage, RgbaImage};

use super::image::{Format, Refusal};

/// A rendition's shape: a width (height follows the source), or a crop to an aspect
/// ratio at most `max_width` wide.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    Width(u32),
    Crop {
        aspect_w: u32,
        aspect_h: u32,
        max_width: u32,
    },
}

const WEBP_QUALITY: f32 = 80.0;
const JPEG_QUALITY: u8 = 82;

/// `a * b / c` rounded to the nearest integer, at least 1 (sizes are never 0).
fn scale(a: u32, b: u32, c: u32) -> u32 {
    let c = u64::from(c.max(1));
    let value = (u64::from(a) * u64::from(b) * 2 + c) / (2 * c);
    u32::try_from(value).unwrap_or(u32::MAX).max(1)
}

/// The size of the largest `aspect_w:aspect_h` rectangle inside the source (a zero
/// aspect counts as the source's own).
fn crop_size(source_w: u32, source_h: u32, aspect_w: u32, aspect_h: u32) -> (u32, u32) {
    let (source_w, source_h) = (source_w.max(1), source_h.max(1));
    if aspect_w == 0 || aspect_h == 0 {
        return (source_w, source_h);
    }
    if u64::from(source_w) * u64::from(aspect_h) >= u64::from(source_h) * u64::from(aspect_w) {
        // The source is wider than the aspect: full height.
        (scale(source_h, aspect_w, aspect_h).min(source_w), source_h)
    } else {
        (source_w, scale(source_w, aspect_h, aspect_w).min(source_h))
    }
}

/// Output size without decoding: Width(w) -> w x round(h*w/W), never upscaled (if w >=
/// source width, the source size); Crop -> the largest aspect_w:aspect_h rectangle
/// inside the source, then scaled down to at most max_width wide (never up). Never 0 in
/// either dimension.
pub fn size(source_w: u32, source_h: u32, shape: Shape) -> (u32, u32) {
    let (source_w, source_h) = (source_w.max(1), source_h.max(1));
    let ((w, h), max_width) = match shape {
        Shape::Width(width) => ((source_w, source_h), width),
        Shape::Crop {
            aspect_w,
            aspect_h,
            max_width,
        } => (crop_size(source_w, source_h, aspect_w, aspect_h), max_width),
    };
    let max_width = max_width.max(1);
    if w <= max_width {
        (w, h)
    } else {
        (max_width, scale(h, max_width, w))
    }
}

/// The crop rectangle (x, y, w, h) in source pixels for a Crop: the largest rectangle
/// of the aspect, centred on the focal point (fx, fy in 0..=1, out-of-range or NaN
/// values clamped or taken as the centre) as far as the image bounds allow. For Width:
/// the whole image.
pub fn region(
    source_w: u32,
    source_h: u32,
    shape: Shape,
    focal: (f64, f64),
) -> (u32, u32, u32, u32) {
    let (source_w, source_h) = (source_w.max(1), source_h.max(1));
    let Shape::Crop {
        aspect_w, aspect_h, ..
    } = shape
    else {
        return (0, 0, source_w, source_h);
    };
    let (w, h) = crop_size(source_w, source_h, aspect_w, aspect_h);
    let offset = |focal: f64, source: u32, length: u32| -> u32 {
        let focal = if focal.is_nan() {
            0.5
        } else {
            focal.clamp(0.0, 1.0)
        };
        let start = (focal * f64::from(source) - f64::from(length) / 2.0).round();
        // In range by the clamp, so the cast neither truncates nor wraps.
        start.clamp(0.0, f64::from(source - length)) as u32
    };
    (
        offset(focal.0, source_w, w),
        offset(focal.1, source_h, h),
        w,
        h,
    )
}

/// Encodes the rendition: crop region, resize with fast_image_resize (Lanczos3,
/// alpha premultiplied while resizing), encode: Webp lossy quality 80 (RGBA if there is
/// alpha, else RGB), Jpeg quality 82 (transparency flattened onto white), Png (fast
/// compression); Gif is not an output and gives Png ([`Format::still`]). The output
/// carries no metadata. Err(Refusal::Broken) only on an encoder failure.
pub fn render(
    image: &DynamicImage,
    shape: Shape,
    focal: (f64, f64),
    out: Format,
) -> Result<Vec<u8>, Refusal> {
    let (x, y, crop_w, crop_h) = region(image.width(), image.height(), shape, focal);
    let (width, height) = size(image.width(), image.height(), shape);
    // 8-bit RGB(A) is what the encoders take; an image already in it is not copied.
    let source: Cow<'_, DynamicImage> = match image {
        DynamicImage::ImageRgb8(_) | DynamicImage::ImageRgba8(_) => Cow::Borrowed(image),
        other if other.color().has_alpha() => Cow::Owned(other.to_rgba8().into()),
        other => Cow::Owned(other.to_rgb8().into()),
    };
    let mut resized = match source.as_ref() {
        DynamicImage::ImageRgba8(_) => DynamicImage::new_rgba8(width, height),
        _ => DynamicImage::new_rgb8(width, height),
    };
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
        .crop(
            f64::from(x),
            f64::from(y),
            f64::from(crop_w),
            f64::from(crop_h),
        );
    Resizer::new()
        .resize(source.as_ref(), &mut resized, &options)
        .map_err(|_| Refusal::Broken("the image could not be resized".into()))?;
    drop(source);
    encode(resized, out.still())
}

/// Whether any pixel is not fully opaque (an RGBA image may well be opaque throughout,
/// like every GIF frame once decoded).
fn has_transparency(image: &RgbaImage) -> bool {
    image.pixels().any(|p| p.0[3] < 255)
}

/// The image composited onto white, for formats without transparency.
fn flatten(image: &RgbaImage) -> RgbImage {
    RgbImage::from_fn(image.width(), image.height(), |x, y| {
        let [r, g, b, a] = image.get_pixel(x, y).0;
        let over = |c: u8| -> u8 {
            let (c, a) = (u32::from(c), u32::from(a));
            // Rounded; at most 255 by construction.
            u8::try_from((c * a + 255 * (255 - a) + 127) / 255).unwrap_or(u8::MAX)
        };
        image::Rgb([over(r), over(g), over(b)])
    })
}

fn encode(image: DynamicImage, out: Format) -> Result<Vec<u8>, Refusal> {
    let failed = || Refusal::Broken(format!("the {} rendition could not be encoded", out.ext()));
    // Drop an alpha channel that says nothing, so the output is smaller.
    let image = match image {
        DynamicImage::ImageRgba8(rgba) if !has_transparency(&rgba) => {
            DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(rgba).to_rgb8())
        }
        other => other,
    };
    let (width, height) = (image.width(), image.height());
    let mut bytes = Vec::new();
    match out {
        Format::Webp => {
            let encoder = match &image {
                DynamicImage::ImageRgba8(rgba) => webp::Encoder::from_rgba(rgba, width, height),
                other => match other.as_rgb8() {
                    Some(rgb) => webp::Encoder::from_rgb(rgb, width, height),
                    None => return Err(failed()),
                },
            };
            let memory = encoder
                .encode_simple(false, WEBP_QUALITY)
                .map_err(|_| failed())?;
            bytes.extend_from_slice(&memory);
        }
        Format::Jpeg => {
            let rgb = match image {
                DynamicImage::ImageRgba8(rgba) => flatten(&rgba),
                other => other.into_rgb8(),
            };
            JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY)
                .write_image(&rgb, width, height, image::ExtendedColorType::Rgb8)
                .map_err(|_| failed())?;
        }
        Format::Png | Format::Gif => {
            PngEncoder::new_with_quality(
                Cursor::new(&mut bytes),
                CompressionType::Fast,
                PngFilter::Adaptive,
            )
            .write_image(image.as_bytes(), width, height, image.color().into())
            .map_err(|_| failed())?;
        }
    }
    Ok(bytes)
}
