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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::fixtures;
    use crate::media::image::{decode, sniff};

    const LIMIT: u64 = 50_000_000;

    fn crop(aspect_w: u32, aspect_h: u32, max_width: u32) -> Shape {
        Shape::Crop {
            aspect_w,
            aspect_h,
            max_width,
        }
    }

    type SizeCase = ((u32, u32), Shape, (u32, u32));
    type RegionCase = ((u32, u32), Shape, (f64, f64), (u32, u32, u32, u32));

    #[test]
    fn sizes_never_upscale_and_never_reach_zero() {
        let table: &[SizeCase] = &[
            ((1600, 1067), Shape::Width(800), (800, 534)),
            ((1600, 1067), Shape::Width(1600), (1600, 1067)),
            ((1600, 1067), Shape::Width(4000), (1600, 1067)),
            ((1000, 1500), Shape::Width(400), (400, 600)),
            ((1600, 1067), crop(16, 9, 1200), (1200, 675)),
            ((1600, 1067), crop(16, 9, 3000), (1600, 900)),
            ((1600, 1067), crop(4, 5, 1080), (854, 1067)),
            ((1000, 1500), crop(1, 1, 400), (400, 400)),
            ((1000, 1500), crop(16, 9, 800), (800, 450)),
            ((1, 1), Shape::Width(800), (1, 1)),
            ((1, 1), crop(16, 9, 100), (1, 1)),
            ((3, 2), crop(16, 9, 100), (3, 2)),
            ((3, 2), crop(1, 1, 1), (1, 1)),
            ((3, 2), Shape::Width(1), (1, 1)),
            ((1000, 1), Shape::Width(10), (10, 1)),
            ((1, 1000), crop(16, 9, 10), (1, 1)),
            ((10, 10), Shape::Width(0), (1, 1)),
            ((10, 10), crop(0, 9, 5), (5, 5)),
            ((0, 0), Shape::Width(10), (1, 1)),
        ];
        for &((w, h), shape, expected) in table {
            assert_eq!(size(w, h, shape), expected, "{w}x{h} {shape:?}");
        }
    }

    #[test]
    fn regions_follow_the_focal_point_within_the_image() {
        let landscape_16_9 = crop(16, 9, 1200);
        let square = crop(1, 1, 400);
        let table: &[RegionCase] = &[
            ((1600, 1067), landscape_16_9, (0.5, 0.5), (0, 84, 1600, 900)),
            ((1600, 1067), landscape_16_9, (0.0, 0.0), (0, 0, 1600, 900)),
            (
                (1600, 1067),
                landscape_16_9,
                (1.0, 1.0),
                (0, 167, 1600, 900),
            ),
            ((1600, 1067), square, (0.5, 0.5), (267, 0, 1067, 1067)),
            ((1600, 1067), square, (0.0, 0.0), (0, 0, 1067, 1067)),
            ((1600, 1067), square, (1.0, 1.0), (533, 0, 1067, 1067)),
            ((1600, 1067), square, (0.25, 0.5), (0, 0, 1067, 1067)),
            ((1600, 1067), square, (0.6, 0.5), (427, 0, 1067, 1067)),
            ((1000, 1500), square, (0.5, 0.5), (0, 250, 1000, 1000)),
            ((1000, 1500), square, (0.0, 0.0), (0, 0, 1000, 1000)),
            ((1000, 1500), square, (1.0, 1.0), (0, 500, 1000, 1000)),
            ((1000, 1500), square, (0.5, 0.2), (0, 0, 1000, 1000)),
            // Out of range and NaN are clamped or centred.
            ((1000, 1500), square, (f64::NAN, 7.0), (0, 500, 1000, 1000)),
            ((1000, 1500), square, (-1.0, f64::NAN), (0, 250, 1000, 1000)),
            (
                (1600, 1067),
                Shape::Width(800),
                (0.0, 1.0),
                (0, 0, 1600, 1067),
            ),
            ((1, 1), square, (1.0, 1.0), (0, 0, 1, 1)),
            ((3, 2), square, (1.0, 0.0), (1, 0, 2, 2)),
            ((3, 2), crop(16, 9, 10), (0.5, 0.5), (0, 0, 3, 2)),
        ];
        for &((w, h), shape, focal, expected) in table {
            let got = region(w, h, shape, focal);
            assert_eq!(got, expected, "{w}x{h} {shape:?} {focal:?}");
            let (x, y, cw, ch) = got;
            assert!(cw > 0 && ch > 0 && x + cw <= w.max(1) && y + ch <= h.max(1));
        }
    }

    fn decoded(bytes: &[u8]) -> DynamicImage {
        let format = sniff(bytes).expect("an image");
        decode(bytes, format, LIMIT).expect("decodes")
    }

    #[test]
    fn renders_each_output_format_at_the_expected_size() {
        let sources = [
            decoded(&fixtures::sample_jpeg(300, 200)),
            decoded(&fixtures::sample_png(300, 200)),
            decoded(&fixtures::sample_gif(300, 200)),
            DynamicImage::ImageLuma16(
                DynamicImage::ImageRgb8(fixtures::photo_like(300, 200)).to_luma16(),
            ),
            DynamicImage::ImageLumaA8(
                DynamicImage::ImageRgb8(fixtures::photo_like(300, 200)).to_luma_alpha8(),
            ),
        ];
        for source in &sources {
            for (out, expected) in [
                (Format::Jpeg, Format::Jpeg),
                (Format::Png, Format::Png),
                (Format::Webp, Format::Webp),
                (Format::Gif, Format::Png),
            ] {
                for (shape, dims) in [
                    (Shape::Width(120), (120, 80)),
                    (crop(1, 1, 50), (50, 50)),
                    (Shape::Width(1000), (300, 200)),
                ] {
                    let bytes = render(source, shape, (0.5, 0.5), out).expect("rendered");
                    assert_eq!(sniff(&bytes), Ok(expected));
                    let back = decode(&bytes, expected, LIMIT).expect("decodes back");
                    assert_eq!((back.width(), back.height()), dims, "{out:?} {shape:?}");
                }
            }
        }
    }

    /// The mean of one channel: red tells the source column, green the row.
    fn mean(image: &DynamicImage, channel: usize) -> f64 {
        let rgb = image.to_rgb8();
        let sum: u64 = rgb.pixels().map(|p| u64::from(p.0[channel])).sum();
        sum as f64 / (rgb.width() * rgb.height()) as f64
    }

    #[test]
    fn crops_come_from_where_the_focal_point_says() {
        let source = decoded(&fixtures::sample_png(300, 200));
        let at = |focal: (f64, f64)| {
            let bytes = render(&source, crop(1, 1, 100), focal, Format::Png).expect("rendered");
            decoded(&bytes)
        };
        // A 200x200 square: columns 0..200 on the left, 100..300 on the right.
        let left = mean(&at((0.0, 0.0)), 0);
        let right = mean(&at((1.0, 1.0)), 0);
        assert!((left - 85.0).abs() < 6.0, "{left}");
        assert!((right - 170.0).abs() < 6.0, "{right}");
        let portrait = decoded(&fixtures::sample_jpeg(200, 300));
        let top = render(&portrait, crop(1, 1, 100), (0.5, 0.0), Format::Jpeg).expect("top");
        let bottom = render(&portrait, crop(1, 1, 100), (0.5, 1.0), Format::Jpeg).expect("bottom");
        assert!(mean(&decoded(&top), 1) + 60.0 < mean(&decoded(&bottom), 1));
    }

    #[test]
    fn transparency_is_kept_where_the_format_has_it_and_flattened_on_white_otherwise() {
        let source = decoded(&fixtures::sample_png(200, 100));
        let webp =
            decoded(&render(&source, Shape::Width(100), (0.5, 0.5), Format::Webp).expect("webp"));
        assert!(webp.color().has_alpha());
        let png =
            decoded(&render(&source, Shape::Width(100), (0.5, 0.5), Format::Png).expect("png"));
        assert_eq!(png.to_rgba8().get_pixel(2, 25).0[3], 128);
        let jpeg =
            decoded(&render(&source, Shape::Width(100), (0.5, 0.5), Format::Jpeg).expect("jpeg"));
        assert!(!jpeg.color().has_alpha());
        // Half-transparent near-black red (the left edge) over white is about 130.
        let red = jpeg.to_rgb8().get_pixel(2, 25).0[0];
        assert!((110..150).contains(&red), "{red}");
        // An opaque source gives an RGB WebP (no alpha chunk to carry).
        let opaque = decoded(&fixtures::sample_gif(200, 100));
        let webp =
            decoded(&render(&opaque, Shape::Width(100), (0.5, 0.5), Format::Webp).expect("webp"));
        assert!(!webp.color().has_alpha());
    }

    #[test]
    fn renditions_carry_no_metadata() {
        let source = decoded(&fixtures::gps_jpeg(60, 40));
        for out in [Format::Jpeg, Format::Png, Format::Webp] {
            let bytes = render(&source, Shape::Width(30), (0.5, 0.5), out).expect("rendered");
            for marker in [
                &b"Exif"[..],
                b"SN-0042",
                b"GPS",
                b"eXIf",
                b"EXIF",
                b"XMP",
                b"iCCP",
            ] {
                assert!(!bytes.windows(marker.len()).any(|w| w == marker), "{out:?}");
            }
            // Rendered from the upright pixels: portrait.
            let back = decoded(&bytes);
            assert_eq!((back.width(), back.height()), (30, 45));
        }
    }

    #[test]
    fn webp_renditions_are_lossy_and_much_smaller_than_png() {
        let source = DynamicImage::ImageRgb8(fixtures::photo_like(1600, 1067));
        let webp = render(&source, Shape::Width(1600), (0.5, 0.5), Format::Webp).expect("webp");
        let png = render(&source, Shape::Width(1600), (0.5, 0.5), Format::Png).expect("png");
        assert!(
            webp.len() * 4 < png.len(),
            "webp {} png {}",
            webp.len(),
            png.len()
        );
        assert_eq!(&webp[12..16], b"VP8 ");
    }
}
