//! Article bodies: Markdown rendered to HTML and sanitised, the derived excerpt
//! and the reading time.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

/// Words read per minute for `reading_time_minutes`.
const WORDS_PER_MINUTE: usize = 200;
const EXCERPT_CHARS: usize = 240;

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_SMART_PUNCTUATION
}

/// Renders Markdown to HTML with everything executable removed: no `<script>`,
/// no event-handler attributes, no `javascript:` URLs (ammonia's allow-list).
pub fn render(markdown: &str) -> String {
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options()));
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&unsafe_html)
        .to_string()
}

/// The plain text of the first paragraph, shortened at a word boundary.
pub fn excerpt(markdown: &str) -> String {
    let mut text = String::new();
    let mut in_paragraph = false;
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Start(Tag::Paragraph) => in_paragraph = true,
            Event::End(TagEnd::Paragraph) if !text.trim().is_empty() => break,
            Event::End(TagEnd::Paragraph) => in_paragraph = false,
            Event::Text(t) | Event::Code(t) if in_paragraph => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak if in_paragraph => text.push(' '),
            _ => {}
        }
    }
    shorten(text.trim(), EXCERPT_CHARS)
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
    fn reading_time_rounds_up_and_is_at_least_one() {
        assert_eq!(reading_time_minutes(""), 1);
        assert_eq!(reading_time_minutes(&"w ".repeat(201)), 2);
    }
}
