//! Photos in article bodies: `![alt](media:<id> "caption")` names a media asset;
//! the body's HTML shows it as a `<figure>` with a responsive `srcset`, its
//! caption and its credit line ("Photo: Jane Doe / Wire Agency"). The alt text and
//! caption written in the Markdown win over the asset's own.

use std::collections::HashMap;

use entity::media;
use pulldown_cmark::{Event, Parser, Tag};
use uuid::Uuid;

use crate::media::image::Format;
use crate::media::renditions::{Preset, Rendition, url};

/// The scheme of a media reference in Markdown.
pub const SCHEME: &str = "media:";
/// The most distinct assets one body may show.
pub const MAX_PER_BODY: usize = 100;

/// What a figure shows of an asset.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// The default image (the 1024-wide WebP, or the nearest the asset has).
    pub src: String,
    pub srcset: String,
    pub width: u32,
    pub height: u32,
    pub alt: Option<String>,
    pub caption: Option<String>,
    /// "Jane Doe / Wire Agency", "Jane Doe" or "Wire Agency".
    pub credit: Option<String>,
}

/// The assets a body shows, by id.
pub type Figures = HashMap<Uuid, Figure>;

/// The asset a link or image destination names, if it is a `media:` reference;
/// `Some(None)` for one whose id is malformed.
pub fn reference(dest: &str) -> Option<Option<Uuid>> {
    let id = dest.strip_prefix(SCHEME)?;
    Some(Uuid::parse_str(id.trim()).ok())
}

/// The assets `markdown` shows, in order of first appearance, and the `media:`
/// references whose id is malformed.
pub fn references(markdown: &str) -> (Vec<Uuid>, Vec<String>) {
    let mut ids = Vec::new();
    let mut malformed = Vec::new();
    // The options the body is rendered with: a `media:` image in a footnote or a
    // table is found as it will be shown.
    for event in Parser::new_ext(markdown, super::markdown::options()) {
        if let Event::Start(Tag::Image { dest_url, .. }) = event {
            match reference(&dest_url) {
                Some(Some(id)) if !ids.contains(&id) => ids.push(id),
                Some(None) => malformed.push(dest_url.to_string()),
                _ => {}
            }
        }
    }
    (ids, malformed)
}

/// The figure of an asset.
pub fn of(m: &media::Model) -> Figure {
    let source = crate::content::media::source(m);
    let link = |name: &str| url(m.id, name);
    let widths: Vec<Preset> = source
        .presets()
        .into_iter()
        .filter(|p| matches!(p, Preset::Width(_)))
        .collect();
    // The 1024-wide rendition, or the widest below it, or the original.
    let default = widths
        .iter()
        .copied()
        .rfind(|p| matches!(p, Preset::Width(w) if *w <= 1024))
        .map_or(
            Rendition {
                preset: Preset::Original,
                format: source.format,
            },
            |preset| Rendition {
                preset,
                format: if source.formats(preset).contains(&Format::Webp) {
                    Format::Webp
                } else {
                    source.format.still()
                },
            },
        );
    let credit = match (m.credit.as_deref(), m.source.as_deref()) {
        (Some(c), Some(s)) if c != s => Some(format!("{c} / {s}")),
        (Some(c), _) => Some(c.to_string()),
        (None, Some(s)) => Some(s.to_string()),
        (None, None) => None,
    };
    Figure {
        src: link(&source.file_name(default)),
        srcset: source.srcset(Format::Webp, link),
        width: source.width,
        height: source.height,
        alt: m.alt_text.clone(),
        caption: m.caption.clone(),
        credit,
    }
}

/// The figures of `assets`.
pub fn all(assets: &[media::Model]) -> Figures {
    assets.iter().map(|m| (m.id, of(m))).collect()
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The HTML of `figure`, with the alt text and caption the Markdown gave (empty:
/// the asset's own).
pub fn html(figure: &Figure, alt: &str, caption: &str) -> String {
    let alt = Some(alt.trim())
        .filter(|a| !a.is_empty())
        .or(figure.alt.as_deref())
        .unwrap_or_default();
    let caption = Some(caption.trim())
        .filter(|c| !c.is_empty())
        .or(figure.caption.as_deref());
    let mut out = format!(
        "<figure class=\"media\"><img src=\"{}\" srcset=\"{}\" sizes=\"(min-width: 1024px) 1024px, 100vw\" \
         width=\"{}\" height=\"{}\" alt=\"{}\" loading=\"lazy\" decoding=\"async\">",
        escape(&figure.src),
        escape(&figure.srcset),
        figure.width,
        figure.height,
        escape(alt),
    );
    if caption.is_some() || figure.credit.is_some() {
        out.push_str("<figcaption>");
        if let Some(caption) = caption {
            out.push_str(&escape(caption));
        }
        if let Some(credit) = &figure.credit {
            if caption.is_some() {
                out.push(' ');
            }
            out.push_str(&format!(
                "<span class=\"credit\">Photo: {}</span>",
                escape(credit)
            ));
        }
        out.push_str("</figcaption>");
    }
    out.push_str("</figure>");
    out
}

/// Whether `srcset` only names this server's renditions (the sanitiser keeps
/// `srcset` on images only then).
pub fn is_own_srcset(srcset: &str) -> bool {
    srcset
        .split(',')
        .all(|candidate| candidate.trim().starts_with("/media/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure() -> Figure {
        Figure {
            src: "/media/x/w1024.webp".into(),
            srcset: "/media/x/w320.webp 320w".into(),
            width: 4000,
            height: 3000,
            alt: Some("Firefighters".into()),
            caption: Some("At dawn <b>".into()),
            credit: Some("Jane Doe / Wire Agency".into()),
        }
    }

    #[test]
    fn references_are_found_once_and_malformed_ones_named() {
        let id = Uuid::now_v7();
        let md = format!(
            "![a](media:{id}) and ![b](media:{id} \"t\") ![c](media:nope) ![d](https://x/y.png)"
        );
        let (ids, bad) = references(&md);
        assert_eq!(ids, vec![id]);
        assert_eq!(bad, vec!["media:nope".to_string()]);
    }

    #[test]
    fn markdown_overrides_win_and_everything_is_escaped() {
        let own = html(&figure(), "", "");
        assert!(own.contains("alt=\"Firefighters\""), "{own}");
        assert!(
            own.contains(
                "At dawn &lt;b&gt; <span class=\"credit\">Photo: Jane Doe / Wire Agency</span>"
            ),
            "{own}"
        );
        let mine = html(&figure(), "A \"fire\"", "Mine");
        assert!(mine.contains("alt=\"A &quot;fire&quot;\""), "{mine}");
        assert!(mine.contains("<figcaption>Mine <span"), "{mine}");
    }
}
