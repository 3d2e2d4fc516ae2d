//! The public site's addresses: the frontend owns the site, so Dispatch builds the
//! public URL of an article, a publisher, an author or a tag from the site's base
//! URL (`DISPATCH_PUBLIC_SITE_URL`) and a path template per kind, checked once at
//! start-up. Feeds, sitemaps, preview links and the articles' `url` all use these.
//!
//! An article's template may name `{publisher}` (the publisher's slug), `{yyyy}`,
//! `{mm}`, `{dd}` (the publication date in UTC), `{slug}` and `{id}`; the others
//! `{slug}` and `{id}`.

use anyhow::{Context, bail};
use chrono::{DateTime, Datelike, Utc};
use uuid::Uuid;

/// The default article template: `/{publisher}/{yyyy}/{mm}/{slug}`.
pub const ARTICLE_TEMPLATE: &str = "/{publisher}/{yyyy}/{mm}/{slug}";
/// Where the site is when nothing says: a frontend's development server.
pub const DEFAULT_BASE: &str = "http://localhost:3000";
/// Where this API is reached when nothing says (`DISPATCH_PUBLIC_API_URL`) and the
/// bound address tells nothing better: the default `DISPATCH_BIND`.
pub const DEFAULT_API_BASE: &str = "http://localhost:8080";
/// The most URLs a sitemap may list (sitemaps.org), and a child sitemap's size.
pub const SITEMAP_PAGE: u64 = 50_000;

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Publisher,
    Year,
    Month,
    Day,
    Slug,
    Id,
}

/// A path template, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
    dated: bool,
}

impl Template {
    /// Parses `text`, allowing the placeholders in `allowed`. A template is a path:
    /// it starts with `/`, names `{slug}` or `{id}` (so that two things never share
    /// an address), and holds no `?`, `#` or spaces.
    pub fn parse(text: &str, allowed: &[&str]) -> anyhow::Result<Self> {
        if !text.starts_with('/') {
            bail!("must start with '/', as in {ARTICLE_TEMPLATE}");
        }
        if text.contains(['?', '#', ' ', '\\']) {
            bail!("must be a path: no '?', '#', spaces or backslashes");
        }
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if rest[..open].contains('}') {
                bail!("has a '}}' without its '{{'");
            }
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let close = rest[open..]
                .find('}')
                .map(|c| open + c)
                .context("has a '{' without its '}'")?;
            let name = &rest[open + 1..close];
            if !allowed.contains(&name) {
                bail!(
                    "names {{{name}}}, which is not one of {}",
                    allowed
                        .iter()
                        .map(|a| format!("{{{a}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            parts.push(match name {
                "publisher" => Part::Publisher,
                "yyyy" => Part::Year,
                "mm" => Part::Month,
                "dd" => Part::Day,
                "slug" => Part::Slug,
                _ => Part::Id,
            });
            rest = &rest[close + 1..];
        }
        if rest.contains('}') {
            bail!("has a '}}' without its '{{'");
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        if !parts.iter().any(|p| matches!(p, Part::Slug | Part::Id)) {
            bail!("must name {{slug}} or {{id}}");
        }
        let dated = parts
            .iter()
            .any(|p| matches!(p, Part::Year | Part::Month | Part::Day));
        Ok(Self { parts, dated })
    }

    /// The path for these values; `None` when the template wants a date and there is none.
    fn render(&self, values: &Values<'_>) -> Option<String> {
        if self.dated && values.date.is_none() {
            return None;
        }
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Publisher => out.push_str(values.publisher),
                Part::Year => out.push_str(&format!("{:04}", values.date?.year())),
                Part::Month => out.push_str(&format!("{:02}", values.date?.month())),
                Part::Day => out.push_str(&format!("{:02}", values.date?.day())),
                Part::Slug => out.push_str(values.slug),
                Part::Id => out.push_str(&values.id.to_string()),
            }
        }
        Some(out)
    }
}

struct Values<'a> {
    publisher: &'a str,
    date: Option<DateTime<Utc>>,
    slug: &'a str,
    id: Uuid,
}

/// The public site: its base URL, the templates, and the language of content that names none.
#[derive(Debug, Clone)]
pub struct Site {
    /// `https://news.example` (no trailing slash).
    pub base: String,
    pub article: Template,
    pub publisher: Template,
    pub author: Template,
    pub tag: Template,
    /// The BCP 47 tag of articles without their own `language` (`DISPATCH_DEFAULT_LANGUAGE`).
    pub default_language: String,
    /// The site's name in feeds and the news sitemap's fallback (`DISPATCH_SITE_NAME`).
    pub name: String,
    /// This API's own public address (`DISPATCH_PUBLIC_API_URL`, no trailing slash):
    /// what feeds link to for themselves, their next pages and the photos, and where
    /// the sitemap index points at its child sitemaps.
    pub api: String,
    /// How many URLs a child sitemap lists (`DISPATCH_SITEMAP_PAGE_SIZE`, at most
    /// [`SITEMAP_PAGE`]; smaller only to test the paging).
    pub sitemap_page: u64,
}

impl Default for Site {
    fn default() -> Self {
        Self::new(DEFAULT_BASE, None, None, None, None, "en", "Dispatch")
            .unwrap_or_else(|e| unreachable!("the defaults are valid: {e}"))
    }
}

impl Site {
    /// The site from its settings (`None`: the default template).
    pub fn new(
        base: &str,
        article: Option<&str>,
        publisher: Option<&str>,
        author: Option<&str>,
        tag: Option<&str>,
        default_language: &str,
        name: &str,
    ) -> anyhow::Result<Self> {
        let base = base_url(base).context("DISPATCH_PUBLIC_SITE_URL")?;
        let simple = ["slug", "id"];
        Ok(Self {
            base,
            article: Template::parse(
                article.unwrap_or(ARTICLE_TEMPLATE),
                &["publisher", "yyyy", "mm", "dd", "slug", "id"],
            )
            .context("DISPATCH_ARTICLE_URL_TEMPLATE")?,
            publisher: Template::parse(publisher.unwrap_or("/publishers/{slug}"), &simple)
                .context("DISPATCH_PUBLISHER_URL_TEMPLATE")?,
            author: Template::parse(author.unwrap_or("/authors/{slug}"), &simple)
                .context("DISPATCH_AUTHOR_URL_TEMPLATE")?,
            tag: Template::parse(tag.unwrap_or("/tags/{slug}"), &simple)
                .context("DISPATCH_TAG_URL_TEMPLATE")?,
            default_language: language(default_language)
                .map_err(anyhow::Error::msg)
                .context("DISPATCH_DEFAULT_LANGUAGE")?,
            name: name.trim().to_string(),
            api: DEFAULT_API_BASE.to_string(),
            sitemap_page: SITEMAP_PAGE,
        })
    }

    /// This site with the API's public address `api` (`DISPATCH_PUBLIC_API_URL`).
    pub fn with_api(mut self, api: &str) -> anyhow::Result<Self> {
        self.api = base_url(api).context("DISPATCH_PUBLIC_API_URL")?;
        Ok(self)
    }

    /// A path of this API made absolute (`/media/x/w1024.jpg` →
    /// `https://api.news.example/media/x/w1024.jpg`).
    pub fn api_url(&self, path: &str) -> String {
        format!("{}{path}", self.api)
    }

    /// The public URL of an article; `None` while it has no publication time and the
    /// template wants its date.
    pub fn article_url(
        &self,
        publisher_slug: &str,
        published_at: Option<DateTime<Utc>>,
        slug: &str,
        id: Uuid,
    ) -> Option<String> {
        let path = self.article.render(&Values {
            publisher: publisher_slug,
            date: published_at,
            slug,
            id,
        })?;
        Some(format!("{}{path}", self.base))
    }

    /// The public URL of a publisher's, an author's or a tag's page.
    pub fn page_url(&self, template: &Template, slug: &str, id: Uuid) -> String {
        let path = template
            .render(&Values {
                publisher: "",
                date: None,
                slug,
                id,
            })
            .unwrap_or_default();
        format!("{}{path}", self.base)
    }

    /// A path of the site made absolute (`/preview/x` → `https://news.example/preview/x`).
    pub fn absolute(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// Checks the site's base URL: absolute http(s), a host, no query or fragment;
/// returned without a trailing slash.
fn base_url(text: &str) -> anyhow::Result<String> {
    let parsed = url::Url::parse(text.trim()).context("must be an absolute URL")?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        bail!("must be an http or https URL with a host, such as https://news.example");
    }
    if parsed.query().is_some() || parsed.fragment().is_some() || !parsed.username().is_empty() {
        bail!("must not carry a query, a fragment or credentials");
    }
    Ok(parsed.as_str().trim_end_matches('/').to_string())
}

/// The API's address when `DISPATCH_PUBLIC_API_URL` is not set: `http://` and the
/// bound address, with `localhost` for a loopback or unspecified (`0.0.0.0`) host.
pub fn api_base_for(bind: std::net::SocketAddr) -> String {
    let ip = bind.ip();
    if ip.is_loopback() || ip.is_unspecified() {
        format!("http://localhost:{}", bind.port())
    } else {
        format!("http://{bind}")
    }
}

/// A BCP 47 language tag in its canonical form (`en-gb` → `en-GB`, `iw` → `he`), or
/// why it is not one: well-formed, and every subtag in the IANA registry.
pub fn language(text: &str) -> Result<String, &'static str> {
    const NOT: &str = "must be a BCP 47 language tag such as en, fr-CA or zh-Hant-TW";
    if text.len() > 35 {
        return Err(NOT);
    }
    language_tags::LanguageTag::parse(text)
        .ok()
        .and_then(|tag| tag.canonicalize().ok())
        .filter(|tag| tag.validate().is_ok() && tag.primary_language() != "und")
        .map(|tag| tag.to_string())
        .ok_or(NOT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn site(base: &str, article: &str) -> Site {
        Site::new(base, Some(article), None, None, None, "en", "News").unwrap()
    }

    #[test]
    fn the_default_template_names_publisher_year_month_and_slug() {
        let at = Utc.with_ymd_and_hms(2026, 3, 9, 23, 30, 0).unwrap();
        let s = site("https://news.example/", ARTICLE_TEMPLATE);
        assert_eq!(
            s.article_url("the-ledger", Some(at), "sea-wall", Uuid::nil())
                .as_deref(),
            Some("https://news.example/the-ledger/2026/03/sea-wall")
        );
        assert_eq!(
            s.article_url("the-ledger", None, "sea-wall", Uuid::nil()),
            None
        );
        let undated = site("https://news.example/base", "/a/{slug}-{id}");
        assert_eq!(
            undated.article_url("x", None, "s", Uuid::nil()).as_deref(),
            Some("https://news.example/base/a/s-00000000-0000-0000-0000-000000000000")
        );
        assert_eq!(
            s.page_url(&s.tag, "climate", Uuid::nil()),
            "https://news.example/tags/climate"
        );
    }

    #[test]
    fn bad_templates_and_bases_are_refused() {
        let all = ["publisher", "yyyy", "mm", "dd", "slug", "id"];
        for bad in [
            "news/{slug}",
            "/{yyyy}/{mm}",
            "/{slug",
            "/slug}",
            "/{title}",
            "/{slug}?x=1",
            "/{slug}#top",
            "/a b/{slug}",
        ] {
            assert!(Template::parse(bad, &all).is_err(), "{bad} was taken");
        }
        assert!(Template::parse("/{publisher}/{slug}", &["slug", "id"]).is_err());
        for bad in [
            "news.example",
            "ftp://news.example",
            "https://news.example/?a=1",
            "https://u:p@news.example",
        ] {
            assert!(base_url(bad).is_err(), "{bad} was taken");
        }
    }

    #[test]
    fn the_api_address_is_configured_or_derived_from_the_bound_one() {
        let bound = |a: &str| api_base_for(a.parse().unwrap());
        assert_eq!(bound("127.0.0.1:8080"), "http://localhost:8080");
        assert_eq!(bound("0.0.0.0:9000"), "http://localhost:9000");
        assert_eq!(bound("10.1.2.3:80"), "http://10.1.2.3:80");
        let s = Site::default()
            .with_api("https://api.news.example/")
            .unwrap();
        assert_eq!(
            s.api_url("/feeds/articles.atom"),
            "https://api.news.example/feeds/articles.atom"
        );
        assert_eq!(Site::default().api, DEFAULT_API_BASE);
        assert!(Site::default().with_api("api.news.example").is_err());
    }

    #[test]
    fn languages_are_bcp_47_in_canonical_case() {
        assert_eq!(language("en").as_deref(), Ok("en"));
        assert_eq!(language("en-gb").as_deref(), Ok("en-GB"));
        assert_eq!(language("zh-hant-tw").as_deref(), Ok("zh-Hant-TW"));
        assert_eq!(language("ar").as_deref(), Ok("ar"));
        assert_eq!(language("iw").as_deref(), Ok("he"));
        for bad in [
            "", "english", "en_US", "e", "en-", "-en", "123", "und", "en-US-x-", "xx",
        ] {
            assert!(language(bad).is_err(), "{bad} was taken");
        }
    }
}
