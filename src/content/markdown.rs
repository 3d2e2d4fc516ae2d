//! Article bodies: Markdown rendered to HTML and sanitised, the derived excerpt
//! and the reading time; and the bound on how deeply a body may nest, so that
//! rendering one (off the async threads, a few at a time) stays cheap.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};
use tokio::sync::Semaphore;
use unicase::UniCase;

use uuid::Uuid;

use super::figures::{self, Figures};
use crate::error::ApiError;

/// The deepest nesting of elements a body may produce: quotes in quotes, lists in
/// lists, emphasis in emphasis, HTML elements in elements. Sanitising costs time
/// that grows with the square of the depth (50,000 `>` took 19 s).
pub const MAX_NESTING: usize = 64;

/// The most markup a body may produce: tags (start and end) plus character
/// references (`&amp;`, `&lt;`, …) in its HTML, plus every place where an
/// attribute could start in the HTML written into the body by hand (the
/// sanitiser's cost grows with the square of the attributes of one tag: 30,000
/// attributes on one `<p>` took 5 s to sanitise in a debug build). Sanitising costs 1–6 µs for each
/// (release build), so at this bound, with the length limit, the worst body
/// measured renders in about 100 ms; a long feature article needs a few thousand.
pub const MAX_MARKUP: usize = 10_000;

/// Bodies rendered at once (each on the blocking pool); more wait their turn.
static RENDER_SLOTS: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(1, usize::from)));

/// Elements that never hold others, so never nest.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// Words read per minute for `reading_time_minutes`.
const WORDS_PER_MINUTE: usize = 200;
const EXCERPT_CHARS: usize = 240;
/// What a footnote's id starts with (its number follows).
const FOOTNOTE_ID: &str = "fn-";

pub fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_SMART_PUNCTUATION
}

/// The unsanitised HTML of `markdown` (its `media:` images as the `figures`), and
/// how many attributes the HTML written into it by hand could hold at most
/// ([`attribute_room`] of its raw HTML).
fn rendered(markdown: &str, figures: &Figures) -> (String, usize) {
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    let mut attributes = 0usize;
    let mut footnotes = Footnotes::default();
    let mut photos = Photos::new(figures);
    let events = Parser::new_ext(markdown, options())
        .inspect(|event| {
            if let Event::Html(raw) | Event::InlineHtml(raw) = event {
                attributes = attributes.saturating_add(attribute_room(raw));
            }
        })
        .filter_map(|event| photos.html(event))
        .map(|event| footnotes.html(event));
    html::push_html(&mut out, events);
    (out, attributes)
}

/// Footnotes, written with ids the sanitiser keeps: a reference links to
/// `#fn-N` and its definition carries `id="fn-N"`, N numbering the labels in
/// order of first appearance. Labels match as the parser matches them (case
/// folded), so a reference and its definition always get the same N.
#[derive(Default)]
struct Footnotes {
    numbers: HashMap<UniCase<String>, usize>,
}

impl Footnotes {
    fn number(&mut self, label: &str) -> usize {
        let next = self.numbers.len() + 1;
        *self
            .numbers
            .entry(UniCase::new(label.to_string()))
            .or_insert(next)
    }

    /// `event`, or for a footnote reference or definition its HTML.
    fn html<'a>(&mut self, event: Event<'a>) -> Event<'a> {
        match event {
            Event::FootnoteReference(label) => {
                let n = self.number(&label);
                Event::InlineHtml(
                    format!(
                        "<sup class=\"footnote-reference\"><a href=\"#{FOOTNOTE_ID}{n}\">{n}</a></sup>"
                    )
                    .into(),
                )
            }
            Event::Start(Tag::FootnoteDefinition(label)) => {
                let n = self.number(&label);
                Event::Html(
                    format!(
                        "<div class=\"footnote-definition\" id=\"{FOOTNOTE_ID}{n}\">\
                         <sup class=\"footnote-definition-label\">{n}</sup>"
                    )
                    .into(),
                )
            }
            Event::End(TagEnd::FootnoteDefinition) => Event::Html("</div>\n".into()),
            other => other,
        }
    }
}

/// `media:` images, written as the figures of their assets: the image's events
/// (its alt text) are held back until its end, which becomes the figure.
struct Photos<'f> {
    figures: &'f Figures,
    /// Inside a `media:` image: its asset, its title and the alt text so far.
    open: Option<(Option<Uuid>, String, String)>,
}

impl<'f> Photos<'f> {
    fn new(figures: &'f Figures) -> Self {
        Self {
            figures,
            open: None,
        }
    }

    fn html<'a>(&mut self, event: Event<'a>) -> Option<Event<'a>> {
        if let Some((_, _, alt)) = &mut self.open {
            match event {
                Event::End(TagEnd::Image) => {
                    let (id, title, alt) = self.open.take()?;
                    let figure = id.and_then(|id| self.figures.get(&id))?;
                    return Some(Event::InlineHtml(
                        figures::html(figure, &alt, &title).into(),
                    ));
                }
                Event::Text(text) | Event::Code(text) => alt.push_str(&text),
                _ => {}
            }
            return None;
        }
        if let Event::Start(Tag::Image {
            dest_url, title, ..
        }) = &event
            && let Some(id) = figures::reference(dest_url)
        {
            self.open = Some((id, title.to_string(), String::new()));
            return None;
        }
        Some(event)
    }
}

/// Whether `id` is one [`Footnotes`] writes: `fn-` and a number.
fn is_footnote_id(id: &str) -> bool {
    id.strip_prefix(FOOTNOTE_ID)
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// An upper bound on the attributes `raw` HTML can give its tags, whatever its
/// quotes, comments and script text make of it: every character that follows
/// whitespace, `/` or a quote (or starts `raw`) and could begin an attribute
/// name. Words of text count too, so it overcounts, never under.
fn attribute_room(raw: &str) -> usize {
    let separator = |b: u8| {
        matches!(
            b,
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'/' | b'"' | b'\''
        )
    };
    let mut previous_separates = true;
    let mut room = 0usize;
    for b in raw.bytes() {
        let separates = separator(b);
        if previous_separates && !separates && b != b'>' {
            room += 1;
        }
        previous_separates = separates;
    }
    room
}

/// Removes everything executable from HTML: no `<script>`, no event-handler
/// attributes, no `javascript:` URLs (ammonia's allow-list). Footnote
/// definitions keep their `fn-N` id (and footnotes their classes), so that the
/// links to them lead somewhere; no other id survives.
fn sanitise(unsafe_html: &str) -> String {
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer nofollow"))
        .add_tag_attributes("div", &["id"])
        .add_tag_attributes("img", &["srcset", "sizes", "loading", "decoding"])
        .add_allowed_classes("figure", &["media"])
        .add_allowed_classes("span", &["credit"])
        .add_allowed_classes("div", &["footnote-definition"])
        .add_allowed_classes("sup", &["footnote-reference", "footnote-definition-label"])
        .attribute_filter(|element, attribute, value| match (element, attribute) {
            ("div", "id") if !is_footnote_id(value) => None,
            ("img", "srcset") if !figures::is_own_srcset(value) => None,
            _ => Some(value.into()),
        })
        .clean(unsafe_html)
        .to_string()
}

/// How deeply the elements of `html` nest, counting every start tag that is not
/// void or self-closing as one level in and every end tag as one out (so an
/// element left open counts as open to the end).
fn nesting(html: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        let closing = rest.starts_with('/');
        let name: String = rest
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        if name.is_empty() {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
        } else if !VOID.contains(&name.as_str()) && {
            // Up to the next `>` or `<`, so that a scan never runs past the next tag.
            let end = rest.find(['<', '>']).unwrap_or(rest.len());
            !rest[..end].ends_with('/')
        } {
            depth += 1;
            deepest = deepest.max(depth);
        }
    }
    deepest
}

/// How much markup `html` holds: its tags and character references.
fn markup(html: &str) -> usize {
    html.bytes().filter(|b| matches!(b, b'<' | b'&')).count()
}

/// The sanitised HTML of a body, or the 422 on `body_markdown` when it nests
/// deeper than [`MAX_NESTING`] or holds more than [`MAX_MARKUP`]. Runs on the
/// blocking pool, a few bodies at a time.
pub async fn render_checked(markdown: &str, figures: Figures) -> Result<String, ApiError> {
    let markdown = markdown.to_string();
    off_thread(move || {
        let (raw, attributes) = rendered(&markdown, &figures);
        let refuse = |message: String| Err(ApiError::unprocessable("body_markdown", message));
        if nesting(&raw) > MAX_NESTING {
            return refuse(format!(
                "nests more than {MAX_NESTING} levels deep (quotes, lists, emphasis or HTML elements inside each other)"
            ));
        }
        if markup(&raw).saturating_add(attributes) > MAX_MARKUP {
            return refuse(format!(
                "has more than {MAX_MARKUP} tags, attributes and character references once rendered"
            ));
        }
        // A figure cannot sit in a paragraph: the parser closes the paragraph
        // before it, which leaves an empty one where the image stood alone.
        Ok(sanitise(&raw).replace("<p></p>", ""))
    })
    .await?
}

/// [`excerpt`] off the async threads (parsing a long body takes a while), a few
/// bodies at a time like [`render_checked`].
pub async fn excerpt_off_thread(markdown: &str) -> Result<String, ApiError> {
    let markdown = markdown.to_string();
    off_thread(move || excerpt(&markdown)).await
}

/// Runs `work` on the blocking pool once one of the [`RENDER_SLOTS`] is free.
async fn off_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let _slot = RENDER_SLOTS
        .acquire()
        .await
        .map_err(|_| ApiError::Internal)?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| ApiError::Internal)
}

/// The plain text of the first paragraph with any text, shortened at a word
/// boundary: the text a reader sees in that paragraph of `body_html`. The body
/// (without its footnotes) is rendered and reduced by the sanitiser to its
/// paragraphs, so that what the sanitiser drops never reaches the excerpt: the
/// content of `<script>` and `<style>`, comments, and text that hand-written HTML
/// left inside either of them.
pub fn excerpt(markdown: &str) -> String {
    let mut in_footnote = false;
    let events = Parser::new_ext(markdown, options()).filter(|event| match event {
        Event::Start(Tag::FootnoteDefinition(_)) => {
            in_footnote = true;
            false
        }
        Event::End(TagEnd::FootnoteDefinition) => {
            in_footnote = false;
            false
        }
        Event::FootnoteReference(_) => false,
        _ => !in_footnote,
    });
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut raw, events);
    let paragraphs = ammonia::Builder::empty()
        .add_tags(&["p"])
        .generic_attributes(HashSet::new())
        .clean(&raw)
        .to_string();
    let text = paragraphs
        .split("<p>")
        .skip(1)
        .map(|p| p.split("</p>").next().unwrap_or_default())
        .map(|p| {
            // Runs of white space read as one space, as in a browser.
            unescape(p)
                .split_ascii_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .find(|p| !p.is_empty())
        .unwrap_or_default();
    shorten(&text, EXCERPT_CHARS)
}

/// The text of the sanitiser's output: it escapes only these in text.
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

fn shorten(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let cut: String = text.chars().take(max_chars).collect();
    let cut = match cut.rfind(char::is_whitespace) {
        Some(i) if i > max_chars / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!(
        "{}…",
        cut.trim_end_matches(|c: char| c.is_whitespace() || c.is_ascii_punctuation())
    )
}

/// Minutes to read, at least one.
pub fn reading_time_minutes(markdown: &str) -> i32 {
    let words = markdown.split_whitespace().count();
    i32::try_from(words.div_ceil(WORDS_PER_MINUTE).max(1)).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders without the limits (what `render_checked` does inside them).
    fn render(markdown: &str) -> String {
        sanitise(&unsafe_html(markdown))
    }

    fn unsafe_html(markdown: &str) -> String {
        rendered(markdown, &Figures::default()).0
    }

    #[test]
    fn markdown_is_rendered() {
        let html = render("## Council\n\nThe *vote* was [close](https://example.com).");
        assert!(html.contains("<h2>Council</h2>"), "{html}");
        assert!(html.contains("<em>vote</em>"), "{html}");
        assert!(html.contains("href=\"https://example.com\""), "{html}");
    }

    #[test]
    fn script_tags_are_removed() {
        let html = render("Hi <script>alert(1)</script> there");
        assert!(!html.to_lowercase().contains("<script"), "{html}");
        assert!(!html.contains("alert(1)"), "{html}");
    }

    #[test]
    fn javascript_links_are_removed() {
        for md in [
            "[x](javascript:alert(1))",
            "<a href=\"javascript:alert(1)\">x</a>",
            "[x](JaVaScRiPt:alert(1))",
        ] {
            let html = render(md);
            assert!(
                !html.to_lowercase().contains("javascript:"),
                "{md} -> {html}"
            );
        }
    }

    #[test]
    fn event_handler_attributes_are_removed() {
        let html = render("<img src=\"x.png\" onerror=\"alert(1)\"> <p onclick=\"steal()\">p</p>");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("onclick"), "{html}");
        assert!(!html.contains("alert"), "{html}");
    }

    #[test]
    fn excerpt_is_the_first_paragraph_in_plain_text() {
        assert_eq!(
            excerpt("# Title\n\nFirst *para*.\n\nSecond."),
            "First para."
        );
        let long = excerpt(&"word ".repeat(200));
        assert!(long.ends_with('…'));
        assert!(long.chars().count() <= 241);
    }

    #[test]
    fn the_excerpt_keeps_no_text_the_sanitiser_drops() {
        let cases = [
            ("Hello <script>alert(1)</script>", "Hello"),
            ("Hello <style>p { color: red }</style> there", "Hello there"),
            ("Hello <!-- a secret note --> there", "Hello there"),
            ("Hi <span>there</span> *you*", "Hi there you"),
            // A script opened by a raw HTML block runs on past its blank line.
            (
                "<div><script>\nalert(1)\n\nresidue</script></div>\n\nThe real opening.",
                "The real opening.",
            ),
            // So does a comment, and its `-->` in a paragraph is escaped text, so it
            // never closes: the body shows nothing, and so does the excerpt.
            ("<div><!-- open\n\nstill a comment -->\n\nHidden text.", ""),
            ("<script>\nalert(1)\n</script>\n\nAfter.", "After."),
            (
                "<style>\np {}\n</style>\n\nAfter the style.",
                "After the style.",
            ),
            ("Before<script>", "Before"),
            ("Tom &amp; Jerry &lt;3 a\u{a0}b", "Tom & Jerry <3 a\u{a0}b"),
            ("Code `<b>` stays", "Code <b> stays"),
            ("A note[^1] here.\n\n[^1]: The note.", "A note here."),
            ("[^1]: A note first.\n\nThe story.[^1]", "The story."),
        ];
        for (markdown, expected) in cases {
            assert_eq!(excerpt(markdown), expected, "{markdown:?}");
            let visible = ammonia::Builder::empty()
                .clean(&render(markdown))
                .to_string();
            assert!(!excerpt(markdown).contains("alert"), "{markdown:?}");
            assert!(!visible.contains("alert"), "{markdown:?}");
        }
    }

    /// The `href="#…"` of every link in `html`, and the `id`s it holds.
    fn anchors(html: &str) -> (Vec<String>, Vec<String>) {
        let values = |attr: &str| -> Vec<String> {
            html.split(attr)
                .skip(1)
                .filter_map(|rest| rest.split('"').next())
                .map(str::to_string)
                .collect()
        };
        (values("href=\"#"), values(" id=\""))
    }

    #[test]
    fn footnote_links_lead_to_ids_that_survive_sanitising() {
        let html = render(
            "Rents rose[^rent] and fares[^Fares] fell[^rent].\n\n\
             [^rent]: City figures.\n\n[^fares]: The *harbour* board.\n\n\
             An [^undefined] one.",
        );
        let (links, ids) = anchors(&html);
        assert_eq!(links, ["fn-1", "fn-2", "fn-1"], "{html}");
        assert_eq!(ids, ["fn-1", "fn-2"], "{html}");
        assert!(
            html.contains("<sup class=\"footnote-reference\"><a href=\"#fn-1\""),
            "{html}"
        );
        assert!(html.contains("<em>harbour</em>"), "{html}");
        assert!(html.contains("An [^undefined] one."), "{html}");
    }

    #[test]
    fn no_other_id_survives_sanitising() {
        let html = render("<div id=\"login\">x</div><p id=\"fn-1\">y</p><div id=\"fn-x\">z</div>");
        assert_eq!(anchors(&html).1, Vec::<String>::new(), "{html}");
        assert!(is_footnote_id("fn-12"));
        assert!(!is_footnote_id("fn-") && !is_footnote_id("fn-1a") && !is_footnote_id("x-1"));
    }

    #[test]
    fn nesting_counts_open_elements() {
        assert_eq!(nesting("<p>a <em>b</em></p><br><img src=x/>"), 2);
        assert_eq!(nesting(&unsafe_html(&">".repeat(10))), 10);
        assert_eq!(nesting(&unsafe_html("- a\n  - b\n    - c")), 6);
        assert_eq!(nesting("<div><div/></div>"), 1);
    }

    /// Worst cases within the length limit, timed; the limits above come from a
    /// release run: `cargo test --release --lib worst_bodies -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn worst_bodies() {
        let n = 200_000;
        let cases: Vec<(&str, String)> = vec![
            ("quotes", ">".repeat(n)),
            ("lists", format!("{}x", "- ".repeat(n / 2))),
            ("emphasis", format!("{0}x{0}", "*".repeat(n / 2))),
            ("divs", "<div>".repeat(n / 5)),
            ("emphasised words", "*a* ".repeat(n / 4)),
            ("code spans", "`a` ".repeat(n / 4)),
            ("inline links", "[a](/x) ".repeat(n / 8)),
            ("autolinks", "<http://a.b> ".repeat(n / 13)),
            (
                "table rows",
                format!("|a|b|\n|-|-|\n{}", "|x|y|\n".repeat(n / 6)),
            ),
            (
                "footnotes",
                (0..n / 20)
                    .map(|i| format!("[^{i}]: x[^{}]\n", i + 1))
                    .collect(),
            ),
            ("paragraphs", "a\n\n".repeat(n / 3)),
            ("ampersands", "&".repeat(n)),
            ("brackets", "[".repeat(n)),
        ];
        for (name, body) in cases {
            let body: String = body.chars().take(n).collect();
            let start = std::time::Instant::now();
            let raw = unsafe_html(&body);
            let parsed = start.elapsed();
            let (depth, weight) = (nesting(&raw), markup(&raw));
            // Time the sanitising of as much as the limits let through.
            let cut = if depth > MAX_NESTING || weight > MAX_MARKUP {
                let keep = body.len() * MAX_MARKUP.min(weight) / weight.max(1);
                unsafe_html(&body[..body.floor_char_boundary(keep)])
            } else {
                raw
            };
            let start = std::time::Instant::now();
            sanitise(&cut);
            println!(
                "{name:18} depth {depth:7} markup {weight:7} parse {parsed:>9.1?} \
                 sanitise at the limit {:>9.1?}",
                start.elapsed()
            );
        }
    }

    #[test]
    fn markup_counts_tags_and_references() {
        assert_eq!(markup(&unsafe_html("a *b* & c")), 2 + 2 + 1);
    }

    #[test]
    fn reading_time_rounds_up_and_is_at_least_one() {
        assert_eq!(reading_time_minutes(""), 1);
        assert_eq!(reading_time_minutes(&"w ".repeat(201)), 2);
    }
}
