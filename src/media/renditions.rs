//! The rendition presets and their names: which sizes and crops an asset has, what
//! each is called in a URL (`w1024.webp`, `square-500-300.jpg`, `original.png`),
//! where it is stored, and the `srcset` strings. Preset sizes only: a URL can name
//! nothing but these, so nobody can make the server resize to arbitrary sizes.

use super::image::Format;
use super::render::{self, Shape};

/// The widths of the width renditions, in pixels (never upscaled: an asset has
/// those narrower than itself).
pub const WIDTHS: [u32; 5] = [320, 640, 1024, 1600, 2400];
/// The square crop: 1:1, at most this wide.
pub const SQUARE_MAX: u32 = 1200;
/// The wide crop: 16:9, at most this wide.
pub const WIDE_MAX: u32 = 1600;

/// The longest side a WebP can have.
pub const WEBP_MAX_SIDE: u32 = 16_383;

/// One preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// The uploaded file itself, less its private metadata.
    Original,
    /// Scaled to this width.
    Width(u32),
    /// 1:1 around the focal point.
    Square,
    /// 16:9 around the focal point.
    Wide,
}

/// What an asset's renditions depend on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Source {
    pub format: Format,
    pub width: u32,
    pub height: u32,
    /// The focal point, 0..=1 each way.
    pub focal: (f64, f64),
}

/// One rendition of an asset: a preset in a format.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rendition {
    pub preset: Preset,
    pub format: Format,
}

/// A focal coordinate as the thousandths in a crop's name.
fn mille(v: f64) -> u32 {
    // Clamped and rounded: 0..=1000 always fits.
    (v.clamp(0.0, 1.0) * 1000.0).round() as u32
}

impl Preset {
    /// The shape render makes, for a derived preset.
    pub fn shape(self) -> Option<Shape> {
        match self {
            Self::Original => None,
            Self::Width(w) => Some(Shape::Width(w)),
            Self::Square => Some(Shape::Crop {
                aspect_w: 1,
                aspect_h: 1,
                max_width: SQUARE_MAX,
            }),
            Self::Wide => Some(Shape::Crop {
                aspect_w: 16,
                aspect_h: 9,
                max_width: WIDE_MAX,
            }),
        }
    }

    /// The name in lists: `original`, `w1024`, `square`, `wide`.
    pub fn name(self) -> String {
        match self {
            Self::Original => "original".into(),
            Self::Width(w) => format!("w{w}"),
            Self::Square => "square".into(),
            Self::Wide => "wide".into(),
        }
    }
}

impl Source {
    /// Every preset this asset has: the original, the widths narrower than it, the crops.
    pub fn presets(&self) -> Vec<Preset> {
        let mut presets = vec![Preset::Original];
        presets.extend(
            WIDTHS
                .iter()
                .filter(|w| **w < self.width)
                .map(|w| Preset::Width(*w)),
        );
        presets.extend([Preset::Square, Preset::Wide]);
        presets
    }

    /// The formats a preset comes in: the original in its own; the others in WebP
    /// and in the original's still format (a GIF's renditions are PNGs of its first
    /// frame), but not WebP where a side would be longer than WebP allows (a tall
    /// infographic's narrow widths).
    pub fn formats(&self, preset: Preset) -> Vec<Format> {
        if preset == Preset::Original {
            return vec![self.format];
        }
        let still = self.format.still();
        let (w, h) = self.size(preset);
        let webp = w <= WEBP_MAX_SIDE && h <= WEBP_MAX_SIDE;
        match (still == Format::Webp, webp) {
            (true, _) => vec![Format::Webp],
            (false, true) => vec![Format::Webp, still],
            (false, false) => vec![still],
        }
    }

    /// Every rendition, in list order.
    pub fn renditions(&self) -> Vec<Rendition> {
        self.presets()
            .into_iter()
            .flat_map(|preset| {
                self.formats(preset)
                    .into_iter()
                    .map(move |format| Rendition { preset, format })
            })
            .collect()
    }

    /// The pixel size of a rendition.
    pub fn size(&self, preset: Preset) -> (u32, u32) {
        match preset.shape() {
            None => (self.width, self.height),
            Some(shape) => render::size(self.width, self.height, shape),
        }
    }

    /// The file name of a rendition (its URL's last segment): crops carry the focal
    /// point in thousandths, so that moving it gives new URLs (each is immutable).
    pub fn file_name(&self, r: Rendition) -> String {
        let stem = match r.preset {
            Preset::Square | Preset::Wide => format!(
                "{}-{}-{}",
                r.preset.name(),
                mille(self.focal.0),
                mille(self.focal.1)
            ),
            other => other.name(),
        };
        format!("{stem}.{}", r.format.ext())
    }

    /// The rendition a URL's file name names, if this asset has it: a preset it has,
    /// in a format it comes in, and for a crop the current focal point (an earlier
    /// crop already made is found in storage before this is asked).
    pub fn parse(&self, file_name: &str) -> Option<Rendition> {
        let (stem, ext) = file_name.rsplit_once('.')?;
        let format = Format::from_ext(ext).filter(|f| f.ext() == ext)?;
        self.renditions()
            .into_iter()
            .find(|r| r.format == format && self.file_name(*r) == format!("{stem}.{ext}"))
    }

    /// `srcset` over the width renditions in `format` (the original when it has none).
    pub fn srcset(&self, format: Format, url: impl Fn(&str) -> String) -> String {
        let widths: Vec<String> = self
            .presets()
            .into_iter()
            .filter(|p| matches!(p, Preset::Width(_)))
            .map(|p| {
                let (w, _) = self.size(p);
                // In `format` where the preset comes in it, else in the still format.
                let format = if self.formats(p).contains(&format) {
                    format
                } else {
                    self.format.still()
                };
                format!(
                    "{} {w}w",
                    url(&self.file_name(Rendition { preset: p, format }))
                )
            })
            .collect();
        if widths.is_empty() {
            let original = self.file_name(Rendition {
                preset: Preset::Original,
                format: self.format,
            });
            return format!("{} {}w", url(&original), self.width);
        }
        widths.join(", ")
    }
}

/// Whether `file_name` could name a rendition of some asset: checked before storage
/// is asked for it, so that only preset names in known formats ever reach it.
pub fn well_formed(file_name: &str) -> bool {
    let Some((stem, ext)) = file_name.rsplit_once('.') else {
        return false;
    };
    if Format::from_ext(ext).is_none_or(|f| f.ext() != ext) {
        return false;
    }
    let crop = |name: &str| {
        stem.strip_prefix(name)
            .and_then(|rest| rest.strip_prefix('-'))
            .and_then(|rest| rest.split_once('-'))
            .is_some_and(|(x, y)| {
                [x, y].iter().all(|v| {
                    v.len() <= 4 && v.parse::<u32>().is_ok_and(|n| n <= 1000) && !v.starts_with('+')
                })
            })
    };
    stem == "original"
        || WIDTHS.iter().any(|w| stem == format!("w{w}"))
        || crop("square")
        || crop("wide")
}

/// Where a file of asset `id` is served: `/media/{id}/{file}` (root-relative).
pub fn url(id: uuid::Uuid, file_name: &str) -> String {
    format!("/media/{id}/{file_name}")
}

/// Where a rendition of asset `id` is stored.
pub fn key(id: uuid::Uuid, file_name: &str) -> String {
    format!("{id}/{file_name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photo() -> Source {
        Source {
            format: Format::Jpeg,
            width: 4000,
            height: 3000,
            focal: (0.5, 0.3),
        }
    }

    #[test]
    fn names_round_trip_and_nothing_else_parses() {
        let s = photo();
        for r in s.renditions() {
            let name = s.file_name(r);
            assert!(well_formed(&name), "{name}");
            assert_eq!(s.parse(&name), Some(r), "{name}");
        }
        for bad in [
            "w1000.webp",
            "w1024.jpeg",
            "w1024.gif",
            "original.webp",
            "square.webp",
            "square-500-301.webp",
            "square-+500-300.webp",
            "../../etc/passwd",
            "w1024",
            "",
            "w1024.webp.webp",
        ] {
            assert_eq!(s.parse(bad), None, "{bad}");
        }
        assert!(!well_formed("../../etc/passwd"));
        assert!(!well_formed("square-1001-0.webp"));
    }

    #[test]
    fn small_images_are_never_upscaled_and_still_have_a_srcset() {
        let s = Source {
            format: Format::Png,
            width: 300,
            height: 200,
            focal: (0.5, 0.5),
        };
        assert!(!s.presets().iter().any(|p| matches!(p, Preset::Width(_))));
        assert_eq!(
            s.srcset(Format::Webp, |n| format!("/m/{n}")),
            "/m/original.png 300w"
        );
        let big = photo();
        assert_eq!(
            big.srcset(Format::Webp, |n| n.to_string()),
            "w320.webp 320w, w640.webp 640w, w1024.webp 1024w, w1600.webp 1600w, w2400.webp 2400w"
        );
    }

    #[test]
    fn a_tall_image_has_no_webp_longer_than_webp_allows() {
        let tall = Source {
            format: Format::Png,
            width: 1000,
            height: 40_000,
            focal: (0.5, 0.5),
        };
        assert_eq!(
            tall.formats(Preset::Width(320)),
            vec![Format::Webp, Format::Png]
        );
        assert_eq!(tall.formats(Preset::Width(640)), vec![Format::Png]);
        assert_eq!(
            tall.srcset(Format::Webp, |n| n.to_string()),
            "w320.webp 320w, w640.png 640w"
        );
        assert_eq!(tall.parse("w640.webp"), None);
    }

    #[test]
    fn gif_renditions_are_png_and_webp_only_webp() {
        let gif = Source {
            format: Format::Gif,
            ..photo()
        };
        assert_eq!(
            gif.formats(Preset::Width(320)),
            vec![Format::Webp, Format::Png]
        );
        assert_eq!(gif.formats(Preset::Original), vec![Format::Gif]);
        let webp = Source {
            format: Format::Webp,
            ..photo()
        };
        assert_eq!(webp.formats(Preset::Square), vec![Format::Webp]);
    }
}
