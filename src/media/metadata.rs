//! The metadata inside a photo: the newsroom's fields read in (IPTC, then XMP, then
//! EXIF) to pre-fill credit, source, copyright, caption and date, and everything
//! private (GPS, serial numbers, editing history) stripped out of the file served to
//! the public, losslessly.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use img_parts::png::{Png, PngChunk};
use img_parts::riff::RiffContent;
use img_parts::webp::WebP;
use img_parts::{Bytes, ImageEXIF};
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use super::image::{Format, Refusal, gif_blocks, jpeg_header, jpeg_layout};

/// The values a photo carries about itself, to pre-fill the media item's fields.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Embedded {
    /// The photographer (IPTC By-line).
    pub credit: Option<String>,
    /// The agency or provider (IPTC Credit, else Source).
    pub source: Option<String>,
    pub copyright: Option<String>,
    pub caption: Option<String>,
    pub taken_at: Option<DateTime<Utc>>,
}

const CREDIT_MAX: usize = 200;
const SOURCE_MAX: usize = 200;
const COPYRIGHT_MAX: usize = 500;
const CAPTION_MAX: usize = 2000;

/// Pre-fill values from IPTC IIM (JPEG APP13), then XMP, then EXIF: each field takes
/// the first source that has it. In news, IPTC "By-line" is the photographer (our
/// `credit`) and IPTC "Credit" the agency (our `source`). Values are trimmed, control
/// characters removed and capped; garbage gives empty fields, never a panic.
pub fn extract(bytes: &[u8], format: Format) -> Embedded {
    let blocks = blocks(bytes, format);
    let iptc = blocks.iptc.as_deref().map(iptc_fields).unwrap_or_default();
    let xmp = blocks.xmp.as_deref().map(xmp_fields).unwrap_or_default();
    let exif = blocks.exif.as_deref().map(exif_fields).unwrap_or_default();
    let pick = |cap: usize, candidates: [&Option<String>; 4]| {
        candidates
            .into_iter()
            .flatten()
            .find_map(|value| clean(value, cap))
    };
    Embedded {
        credit: pick(
            CREDIT_MAX,
            [&iptc.by_line, &xmp.creator, &exif.artist, &None],
        ),
        source: pick(
            SOURCE_MAX,
            [&iptc.credit, &iptc.source, &xmp.credit, &xmp.source],
        ),
        copyright: pick(
            COPYRIGHT_MAX,
            [&iptc.copyright, &xmp.rights, &exif.copyright, &None],
        ),
        caption: pick(
            CAPTION_MAX,
            [&iptc.caption, &xmp.description, &exif.description, &None],
        ),
        taken_at: iptc.taken_at.or(xmp.taken_at).or(exif.taken_at),
    }
}

/// Trimmed, without control characters (line breaks and tabs become spaces), at most
/// `cap` characters; `None` when nothing is left.
fn clean(value: &str, cap: usize) -> Option<String> {
    let spaced: String = value
        .chars()
        .filter_map(|c| match c {
            '\n' | '\r' | '\t' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect();
    let trimmed = spaced.trim();
    if trimmed.is_empty() {
        return None;
    }
    Some(
        trimmed
            .chars()
            .take(cap)
            .collect::<String>()
            .trim_end()
            .to_string(),
    )
}

/// Text as UTF-8, or as Latin-1 when it is not valid UTF-8 (older IPTC writers).
fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// The raw metadata blocks of a file: IPTC IIM datasets, the XMP packet and the EXIF
/// TIFF structure (without the `Exif\0\0` prefix).
#[derive(Debug, Default)]
struct Blocks {
    iptc: Option<Vec<u8>>,
    xmp: Option<Vec<u8>>,
    exif: Option<Vec<u8>>,
}

const EXIF_PREFIX: &[u8] = b"Exif\0\0";
const XMP_PREFIX: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
const PHOTOSHOP_PREFIX: &[u8] = b"Photoshop 3.0\0";
const XMP_KEYWORD: &[u8] = b"XML:com.adobe.xmp";

fn blocks(bytes: &[u8], format: Format) -> Blocks {
    let mut blocks = Blocks::default();
    match format {
        Format::Jpeg => {
            // IPTC may be split over several APP13 segments; their payloads join.
            let mut photoshop = Vec::new();
            for segment in jpeg_header(bytes) {
                let payload = segment.payload;
                match segment.marker {
                    0xE1 if blocks.exif.is_none() && payload.starts_with(EXIF_PREFIX) => {
                        blocks.exif = Some(payload[EXIF_PREFIX.len()..].to_vec());
                    }
                    0xE1 if blocks.xmp.is_none() && payload.starts_with(XMP_PREFIX) => {
                        blocks.xmp = Some(payload[XMP_PREFIX.len()..].to_vec());
                    }
                    0xED if payload.starts_with(PHOTOSHOP_PREFIX) => {
                        photoshop.extend_from_slice(&payload[PHOTOSHOP_PREFIX.len()..]);
                    }
                    _ => {}
                }
            }
            blocks.iptc = photoshop_resource(&photoshop, 0x0404).map(<[u8]>::to_vec);
        }
        Format::Png => {
            for (kind, data) in png_chunks(bytes) {
                match &kind {
                    b"eXIf" if blocks.exif.is_none() => blocks.exif = Some(data.to_vec()),
                    b"iTXt" if blocks.xmp.is_none() => blocks.xmp = itxt_xmp(data),
                    b"IDAT" | b"IEND" => break,
                    _ => {}
                }
            }
        }
        Format::Webp => {
            for (id, data) in riff_chunks(bytes) {
                match &id {
                    b"EXIF" if blocks.exif.is_none() => {
                        let data = data.strip_prefix(EXIF_PREFIX).unwrap_or(data);
                        blocks.exif = Some(data.to_vec());
                    }
                    b"XMP " if blocks.xmp.is_none() => blocks.xmp = Some(data.to_vec()),
                    _ => {}
                }
            }
        }
        // GIF keeps XMP in an application extension that needs its own framing
        // tricks; news photos do not come as GIFs, so none is read.
        Format::Gif => {}
    }
    blocks
}

/// The chunks of a PNG (type, data) as far as they can be read; CRCs are not checked.
fn png_chunks(bytes: &[u8]) -> Vec<([u8; 4], &[u8])> {
    let mut chunks = Vec::new();
    let mut at = 8;
    while let Some(header) = bytes.get(at..at + 8) {
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let kind = [header[4], header[5], header[6], header[7]];
        let Some(data) = at
            .checked_add(8 + length)
            .and_then(|end| bytes.get(at + 8..end))
        else {
            break;
        };
        chunks.push((kind, data));
        at += 12 + length;
    }
    chunks
}

/// The XMP packet of an iTXt chunk keyed `XML:com.adobe.xmp`, if it is uncompressed
/// (the XMP specification asks for that; a compressed one is ignored).
fn itxt_xmp(data: &[u8]) -> Option<Vec<u8>> {
    let rest = data.strip_prefix(XMP_KEYWORD)?.strip_prefix(b"\0")?;
    let (&compressed, rest) = rest.split_first()?;
    if compressed != 0 {
        return None;
    }
    let rest = rest.get(1..)?; // compression method
    let language_end = rest.iter().position(|&b| b == 0)?;
    let rest = &rest[language_end + 1..];
    let keyword_end = rest.iter().position(|&b| b == 0)?;
    Some(rest[keyword_end + 1..].to_vec())
}

/// The sub-chunks of a RIFF/WebP file (id, data) as far as they can be read.
fn riff_chunks(bytes: &[u8]) -> Vec<([u8; 4], &[u8])> {
    let mut chunks = Vec::new();
    let mut at = 12;
    while let Some(header) = bytes.get(at..at + 8) {
        let id = [header[0], header[1], header[2], header[3]];
        let length = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        let Some(data) = at
            .checked_add(8 + length)
            .and_then(|end| bytes.get(at + 8..end))
        else {
            break;
        };
        chunks.push((id, data));
        // Chunks are padded to an even length.
        at += 8 + length + (length & 1);
    }
    chunks
}

/// The data of Photoshop image resource `id` ("8BIM" blocks) in an APP13 payload.
fn photoshop_resource(mut data: &[u8], id: u16) -> Option<&[u8]> {
    loop {
        let signature = data.get(..4)?;
        if !matches!(signature, b"8BIM" | b"MeSa" | b"PHUT" | b"AgHg" | b"DCSR") {
            return None;
        }
        let resource = u16::from_be_bytes([*data.get(4)?, *data.get(5)?]);
        // A Pascal string name, padded so that length byte + name is even.
        let name_length = usize::from(*data.get(6)?);
        let mut at = 6 + 1 + name_length;
        at += at & 1;
        let size = u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?) as usize;
        at += 4;
        let body = data.get(at..at.checked_add(size)?)?;
        if signature == b"8BIM" && resource == id {
            return Some(body);
        }
        at += size + (size & 1);
        data = data.get(at..)?;
    }
}

#[derive(Debug, Default)]
struct Iptc {
    by_line: Option<String>,
    credit: Option<String>,
    source: Option<String>,
    copyright: Option<String>,
    caption: Option<String>,
    taken_at: Option<DateTime<Utc>>,
}

/// The IIM datasets of record 2 we use. Several By-lines are joined with ", ".
fn iptc_fields(mut data: &[u8]) -> Iptc {
    let mut iptc = Iptc::default();
    let mut by_lines: Vec<String> = Vec::new();
    let (mut date, mut time) = (None, None);
    while let [0x1C, record, dataset, high, low, rest @ ..] = data {
        let length = usize::from(u16::from_be_bytes([*high, *low]));
        let (length, rest) = if length & 0x8000 != 0 {
            // An extended dataset: the low bits say how many bytes hold the length.
            let count = length & 0x7FFF;
            if count > 4 || rest.len() < count {
                break;
            }
            let length = rest[..count]
                .iter()
                .fold(0usize, |n, &b| (n << 8) | usize::from(b));
            (length, &rest[count..])
        } else {
            (length, rest)
        };
        let Some(value) = rest.get(..length) else {
            break;
        };
        if *record == 2 {
            let value = text(value);
            match dataset {
                80 if !by_lines.contains(&value) => by_lines.push(value),
                110 => iptc.credit = iptc.credit.or(Some(value)),
                115 => iptc.source = iptc.source.or(Some(value)),
                116 => iptc.copyright = iptc.copyright.or(Some(value)),
                120 => iptc.caption = iptc.caption.or(Some(value)),
                55 => date = date.or(Some(value)),
                60 => time = time.or(Some(value)),
                _ => {}
            }
        }
        data = &rest[length..];
    }
    let by_lines: Vec<String> = by_lines
        .iter()
        .filter_map(|b| clean(b, CREDIT_MAX))
        .collect();
    if !by_lines.is_empty() {
        iptc.by_line = Some(by_lines.join(", "));
    }
    iptc.taken_at = date.and_then(|date| iptc_date(&date, time.as_deref()));
    iptc
}

/// IPTC 2:55 `CCYYMMDD` with 2:60 `HHMMSS±HHMM`; no time is midnight, no offset UTC.
fn iptc_date(date: &str, time: Option<&str>) -> Option<DateTime<Utc>> {
    let date = date.trim();
    // chrono would read a digit short as a one-digit day; IIM dates are exactly 8.
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let date = NaiveDate::parse_from_str(date, "%Y%m%d").ok()?;
    let time = time.map(str::trim).unwrap_or_default();
    let clock = time
        .get(..6)
        .and_then(|t| NaiveTime::parse_from_str(t, "%H%M%S").ok());
    let Some(clock) = clock else {
        return Some(Utc.from_utc_datetime(&date.and_time(NaiveTime::MIN)));
    };
    let offset = time.get(6..).and_then(offset).unwrap_or(utc_offset());
    local(date.and_time(clock), offset)
}

/// `±HH:MM`, `±HHMM`, `±HH` or `Z` as an offset.
fn offset(text: &str) -> Option<FixedOffset> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("z") {
        return Some(utc_offset());
    }
    let sign = match text.chars().next()? {
        '+' => 1,
        '-' => -1,
        _ => return None,
    };
    let digits: String = text[1..].chars().filter(|c| *c != ':').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (hours, minutes) = match digits.len() {
        2 => (digits.parse::<i32>().ok()?, 0),
        4 => (
            digits[..2].parse::<i32>().ok()?,
            digits[2..].parse::<i32>().ok()?,
        ),
        _ => return None,
    };
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

fn utc_offset() -> FixedOffset {
    Utc.fix()
}

fn local(time: NaiveDateTime, offset: FixedOffset) -> Option<DateTime<Utc>> {
    offset
        .from_local_datetime(&time)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// An XMP date (ISO 8601: `2026-03-14`, `…T06:30`, `…T06:30:00.5+01:00`, `…Z`);
/// no time is midnight, no offset UTC. A year or month alone is too vague to keep.
fn xmp_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok()?;
    let Some(rest) = text.get(10..).filter(|r| !r.is_empty()) else {
        return Some(Utc.from_utc_datetime(&date.and_time(NaiveTime::MIN)));
    };
    let rest = rest.strip_prefix('T')?;
    // The clock runs up to the offset, if any.
    let split = rest.find(['+', '-', 'Z', 'z']).unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(split);
    let clock = NaiveTime::parse_from_str(clock, "%H:%M:%S%.f")
        .or_else(|_| NaiveTime::parse_from_str(clock, "%H:%M"))
        .ok()?;
    let zone = if zone.is_empty() {
        utc_offset()
    } else {
        offset(zone)?
    };
    local(date.and_time(clock), zone)
}

#[derive(Debug, Default)]
struct Xmp {
    creator: Option<String>,
    credit: Option<String>,
    source: Option<String>,
    rights: Option<String>,
    description: Option<String>,
    taken_at: Option<DateTime<Utc>>,
}

const NS_DC: &[u8] = b"http://purl.org/dc/elements/1.1/";
const NS_PHOTOSHOP: &[u8] = b"http://ns.adobe.com/photoshop/1.0/";
const NS_EXIF: &[u8] = b"http://ns.adobe.com/exif/1.0/";
const NS_RDF: &[u8] = b"http://www.w3.org/1999/02/22-rdf-syntax-ns#";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Property {
    Creator,
    Credit,
    Source,
    Rights,
    Description,
    DateCreated,
    DateTimeOriginal,
}

fn property(namespace: &[u8], local: &[u8]) -> Option<Property> {
    match (namespace, local) {
        (NS_DC, b"creator") => Some(Property::Creator),
        (NS_DC, b"rights") => Some(Property::Rights),
        (NS_DC, b"description") => Some(Property::Description),
        (NS_PHOTOSHOP, b"Credit") => Some(Property::Credit),
        (NS_PHOTOSHOP, b"Source") => Some(Property::Source),
        (NS_PHOTOSHOP, b"DateCreated") => Some(Property::DateCreated),
        (NS_EXIF, b"DateTimeOriginal") => Some(Property::DateTimeOriginal),
        _ => None,
    }
}

/// The values found for each property: the `rdf:li` items (with their `xml:lang`) or
/// the element's own text, or an attribute of `rdf:Description`.
#[derive(Debug, Default)]
struct Values {
    found: Vec<(Property, Option<String>, String)>,
}

impl Values {
    /// The value of `property`: for a language alternative the `x-default` item, else
    /// the first; for a list (dc:creator) every item joined with ", ".
    fn get(&self, property: Property) -> Option<String> {
        let items: Vec<&(Property, Option<String>, String)> = self
            .found
            .iter()
            .filter(|(p, _, text)| *p == property && !text.trim().is_empty())
            .collect();
        if property == Property::Creator {
            let names: Vec<&str> = items.iter().map(|(_, _, text)| text.trim()).collect();
            return (!names.is_empty()).then(|| names.join(", "));
        }
        items
            .iter()
            .find(|(_, lang, _)| lang.as_deref() == Some("x-default"))
            .or(items.first())
            .map(|(_, _, text)| text.clone())
    }
}

/// Reads the properties we use from an XMP packet; a malformed packet gives what was
/// read before the error.
fn xmp_fields(packet: &[u8]) -> Xmp {
    // Real packets are a few KiB (a JPEG's at most 64 KiB); a larger one is not read.
    if packet.len() > MAX_XMP {
        return Xmp::default();
    }
    let xml = String::from_utf8_lossy(packet);
    let values = xmp_values(&xml);
    Xmp {
        creator: values.get(Property::Creator),
        credit: values.get(Property::Credit),
        source: values.get(Property::Source),
        rights: values.get(Property::Rights),
        description: values.get(Property::Description),
        taken_at: values
            .get(Property::DateCreated)
            .and_then(|d| xmp_date(&d))
            .or_else(|| {
                values
                    .get(Property::DateTimeOriginal)
                    .and_then(|d| xmp_date(&d))
            }),
    }
}

/// The largest XMP packet read.
const MAX_XMP: usize = 1024 * 1024;
/// The most attributes of one element read (quick-xml's duplicate check, which
/// compares each with all before it, is off: n attributes would cost n² / 2).
const MAX_ATTRIBUTES: usize = 256;

fn xmp_values(xml: &str) -> Values {
    let mut values = Values::default();
    let mut reader = NsReader::from_str(xml);
    // The property being read, the element depth it opened at, and the text so far
    // of its current item (with the item's language).
    let mut open: Option<(Property, usize)> = None;
    let mut item: Option<(Option<String>, String)> = None;
    let mut own_text = String::new();
    let mut depth = 0usize;
    // Bounded: a packet is at most 64 KiB in a JPEG, but a PNG's could be anything.
    for _ in 0..200_000 {
        let Ok((namespace, event)) = reader.read_resolved_event() else {
            break;
        };
        let namespace: Option<Vec<u8>> = match namespace {
            ResolveResult::Bound(ns) => Some(ns.as_ref().to_vec()),
            _ => None,
        };
        let is_empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(start) | Event::Empty(start) => {
                let local = start.local_name().as_ref().to_vec();
                let ns = namespace.as_deref().unwrap_or_default();
                if ns == NS_RDF && local == b"Description" {
                    for attribute in start
                        .attributes()
                        .with_checks(false)
                        .take(MAX_ATTRIBUTES)
                        .flatten()
                    {
                        let (attribute_ns, attribute_local) =
                            reader.resolve_attribute(attribute.key);
                        let ResolveResult::Bound(attribute_ns) = attribute_ns else {
                            continue;
                        };
                        if let Some(p) = property(attribute_ns.as_ref(), attribute_local.as_ref())
                            && let Ok(value) = attribute.unescape_value()
                        {
                            values.found.push((p, None, value.into_owned()));
                        }
                    }
                }
                if open.is_none() {
                    if let Some(p) = property(ns, &local) {
                        open = Some((p, depth));
                        own_text.clear();
                    }
                } else if ns == NS_RDF && local == b"li" {
                    let lang = start
                        .attributes()
                        .with_checks(false)
                        .take(MAX_ATTRIBUTES)
                        .flatten()
                        .find(|a| a.key.as_ref() == b"xml:lang")
                        .and_then(|a| a.unescape_value().ok())
                        .map(|v| v.into_owned());
                    item = Some((lang, String::new()));
                }
                if !is_empty {
                    depth += 1;
                } else {
                    close(&mut values, &mut open, &mut item, &mut own_text, depth);
                }
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                close(&mut values, &mut open, &mut item, &mut own_text, depth);
            }
            Event::Text(t) => {
                if let Ok(t) = t.xml_content() {
                    push_text(&mut item, &mut own_text, open.is_some(), &t);
                }
            }
            Event::CData(t) => {
                if let Ok(t) = t.decode() {
                    push_text(&mut item, &mut own_text, open.is_some(), &t);
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c.to_string()),
                    _ => r
                        .decode()
                        .ok()
                        .and_then(|name| quick_xml::escape::resolve_predefined_entity(&name))
                        .map(str::to_string),
                };
                if let Some(t) = resolved {
                    push_text(&mut item, &mut own_text, open.is_some(), &t);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    values
}

fn push_text(
    item: &mut Option<(Option<String>, String)>,
    own_text: &mut String,
    open: bool,
    text: &str,
) {
    match item {
        Some((_, item_text)) => item_text.push_str(text),
        None if open => own_text.push_str(text),
        None => {}
    }
}

/// After an element at `depth` closed: finish the current `rdf:li` item, or the
/// property if it was the property's own element.
fn close(
    values: &mut Values,
    open: &mut Option<(Property, usize)>,
    item: &mut Option<(Option<String>, String)>,
    own_text: &mut String,
    depth: usize,
) {
    let Some((property, opened_at)) = *open else {
        return;
    };
    if depth == opened_at {
        // The property's element itself closed; its text counts only without items.
        if let Some((lang, text)) = item.take() {
            values.found.push((property, lang, text));
        }
        if !values.found.iter().any(|(p, _, _)| *p == property) {
            values
                .found
                .push((property, None, std::mem::take(own_text)));
        }
        own_text.clear();
        *open = None;
    } else if let Some((lang, text)) = item.take() {
        values.found.push((property, lang, text));
    }
}

#[derive(Debug, Default)]
struct Exif {
    artist: Option<String>,
    copyright: Option<String>,
    description: Option<String>,
    taken_at: Option<DateTime<Utc>>,
}

fn exif_fields(tiff: &[u8]) -> Exif {
    let Some(exif) = read_exif(tiff) else {
        return Exif::default();
    };
    let ascii = |tag: exif::Tag| -> Option<String> {
        let field = exif.get_field(tag, exif::In::PRIMARY)?;
        match &field.value {
            // Copyright may hold "photographer\0editor"; the first part that says
            // something is used.
            exif::Value::Ascii(parts) => parts
                .iter()
                .map(|part| text(part))
                .find(|part| !part.trim().is_empty()),
            _ => None,
        }
    };
    let taken_at = ascii(exif::Tag::DateTimeOriginal).and_then(|when| {
        let time = NaiveDateTime::parse_from_str(when.trim(), "%Y:%m:%d %H:%M:%S").ok()?;
        let zone = ascii(exif::Tag::OffsetTimeOriginal)
            .and_then(|o| offset(&o))
            .unwrap_or(utc_offset());
        local(time, zone)
    });
    Exif {
        artist: ascii(exif::Tag::Artist),
        copyright: ascii(exif::Tag::Copyright),
        description: ascii(exif::Tag::ImageDescription),
        taken_at,
    }
}

/// The parsed EXIF block, keeping what could be read of a partly broken one.
fn read_exif(tiff: &[u8]) -> Option<exif::Exif> {
    let mut reader = exif::Reader::new();
    reader.continue_on_error(true);
    match reader.read_raw(tiff.to_vec()) {
        Ok(exif) => Some(exif),
        Err(exif::Error::PartialResult(partial)) => Some(partial.into_inner().0),
        Err(_) => None,
    }
}

/// The EXIF orientation (1 to 8) of a raw TIFF block; 1 when absent or invalid.
fn orientation(tiff: Option<&[u8]>) -> u8 {
    tiff.and_then(image::metadata::Orientation::from_exif_chunk)
        .map_or(1, |o| o.to_exif())
}

/// A big-endian TIFF structure holding only the Orientation tag: what survives of
/// EXIF so that a portrait photo taken sideways stays upright.
fn orientation_exif(orientation: u8) -> Vec<u8> {
    let mut tiff = b"MM\0\x2A\0\0\0\x08".to_vec();
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // one value
    tiff.extend_from_slice(&[0, orientation, 0, 0]); // left-justified in 4 bytes
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    tiff
}

/// The file as served to the public: with `keep_private == false`, EXIF (GPS, serial
/// numbers, everything), XMP, IPTC/APP13 and comments removed without re-encoding; the
/// ICC profile kept, and an orientation other than 1 written back as a minimal EXIF
/// block. GIF: comment and application extensions dropped except the looping
/// (NETSCAPE2.0/ANIMEXTS1.0) and ICC ones. With `keep_private == true`, the bytes
/// unchanged. A file that cannot be taken apart -> Broken.
pub fn strip(bytes: &[u8], format: Format, keep_private: bool) -> Result<Vec<u8>, Refusal> {
    if keep_private {
        return Ok(bytes.to_vec());
    }
    match format {
        Format::Jpeg => strip_jpeg(bytes),
        Format::Png => strip_png(bytes),
        Format::Webp => strip_webp(bytes),
        Format::Gif => strip_gif(bytes),
    }
}

fn strip_jpeg(bytes: &[u8]) -> Result<Vec<u8>, Refusal> {
    let layout = jpeg_layout(bytes)
        .ok_or_else(|| Refusal::Broken("the JPEG ends before its image data does".into()))?;
    let exif = layout
        .parts
        .iter()
        .find(|s| s.marker == 0xE1 && s.payload.starts_with(EXIF_PREFIX))
        .map(|s| &s.payload[EXIF_PREFIX.len()..]);
    let orientation = orientation(exif);

    let mut out = Vec::with_capacity(layout.end);
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut exif_written = orientation == 1;
    for part in &layout.parts {
        let keep = match part.marker {
            // JFIF, without its thumbnail (a thumbnail can show what a crop removed).
            0xE0 if part.payload.starts_with(b"JFIF\0") && part.payload.len() >= 14 => {
                let mut jfif = part.payload[..14].to_vec();
                jfif[12] = 0;
                jfif[13] = 0;
                push_segment(&mut out, 0xE0, &jfif);
                false
            }
            // The colour profile, and Adobe's segment, which says how to read CMYK.
            0xE2 => part.payload.starts_with(b"ICC_PROFILE\0"),
            0xEE => part.payload.starts_with(b"Adobe"),
            // Every other application segment (EXIF, XMP, IPTC, MPF, maker notes…) and
            // comments.
            0xE0..=0xEF | 0xFE => false,
            _ => true,
        };
        if !exif_written && part.marker != 0xE0 {
            let mut payload = EXIF_PREFIX.to_vec();
            payload.extend_from_slice(&orientation_exif(orientation));
            push_segment(&mut out, 0xE1, &payload);
            exif_written = true;
        }
        if keep {
            out.extend_from_slice(&bytes[part.start..part.end]);
        }
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    Ok(out)
}

fn push_segment(out: &mut Vec<u8>, marker: u8, payload: &[u8]) {
    // Every payload written here is far below the 65533-byte segment limit.
    let length = u16::try_from(payload.len() + 2).unwrap_or(u16::MAX);
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(payload);
}

/// PNG chunks that affect how the pixels look (or animate); every other ancillary
/// chunk (eXIf, tEXt, zTXt, iTXt, tIME, private ones) is dropped.
const PNG_KEPT: &[&[u8; 4]] = &[
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT",
    b"bKGD", b"pHYs", b"cICP", b"mDCV", b"mDCv", b"cLLI", b"cLLi", b"acTL", b"fcTL", b"fdAT",
];

fn strip_png(bytes: &[u8]) -> Result<Vec<u8>, Refusal> {
    let mut png = Png::from_bytes(Bytes::copy_from_slice(bytes))
        .map_err(|_| Refusal::Broken("a PNG chunk is cut short or fails its checksum".into()))?;
    let exif = png.chunk_by_type(*b"eXIf").map(|c| c.contents().to_vec());
    let orientation = orientation(exif.as_deref());
    png.chunks_mut().retain(|chunk| {
        let kind = chunk.kind();
        // Critical chunks (upper-case first letter) are never dropped.
        kind[0].is_ascii_uppercase() || PNG_KEPT.contains(&&kind)
    });
    if orientation != 1 {
        // Before the image data, as the PNG specification asks of eXIf.
        let at = png
            .chunks()
            .iter()
            .position(|c| &c.kind() == b"IDAT")
            .unwrap_or(1);
        let chunk = PngChunk::new(*b"eXIf", Bytes::from(orientation_exif(orientation)));
        png.chunks_mut().insert(at, chunk);
    }
    Ok(png.encoder().bytes().to_vec())
}

/// WebP chunks that make up the picture; EXIF, XMP and unknown chunks are dropped.
const WEBP_KEPT: &[&[u8; 4]] = &[
    b"VP8X", b"VP8 ", b"VP8L", b"ALPH", b"ANIM", b"ANMF", b"ICCP",
];

fn strip_webp(bytes: &[u8]) -> Result<Vec<u8>, Refusal> {
    let mut webp = WebP::from_bytes(Bytes::copy_from_slice(bytes))
        .map_err(|_| Refusal::Broken("a WebP chunk is cut short".into()))?;
    let orientation = orientation(webp.exif().as_deref());
    webp.chunks_mut()
        .retain(|chunk| WEBP_KEPT.contains(&&chunk.id()));
    // Setting EXIF (even to nothing) makes img-parts recompute the VP8X flags.
    let exif = (orientation != 1).then(|| Bytes::from(orientation_exif(orientation)));
    webp.set_exif(exif);
    // img-parts keeps the XMP flag as it was; there is no XMP chunk any more.
    for chunk in webp.chunks_mut() {
        if &chunk.id() == b"VP8X"
            && let RiffContent::Data(data) = chunk.content_mut()
            && let Some(&flags) = data.first()
        {
            let mut fixed = data.to_vec();
            fixed[0] = flags & !0b0000_0100;
            *data = Bytes::from(fixed);
        }
    }
    Ok(webp.encoder().bytes().to_vec())
}

/// GIF application extensions kept: looping, and the ICC profile.
const GIF_APPS_KEPT: &[&[u8; 11]] = &[b"NETSCAPE2.0", b"ANIMEXTS1.0", b"ICCRGBG1012"];

fn strip_gif(bytes: &[u8]) -> Result<Vec<u8>, Refusal> {
    let (header, blocks) = gif_blocks(bytes)
        .ok_or_else(|| Refusal::Broken("the GIF ends before its image data does".into()))?;
    let mut out = bytes[..header].to_vec();
    for (start, end) in blocks {
        let block = &bytes[start..end];
        let keep = match block {
            // Comments.
            [0x21, 0xFE, ..] => false,
            // Application extensions: an 11-byte identifier in the first sub-block.
            [0x21, 0xFF, 11, id @ ..] => GIF_APPS_KEPT.iter().any(|k| id.starts_with(*k)),
            [0x21, 0xFF, ..] => false,
            // Images, graphic control and plain text are the picture.
            _ => true,
        };
        if keep {
            out.extend_from_slice(block);
        }
    }
    out.push(0x3B);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::fixtures;
    use crate::media::image::{decode, probe};
    use image::ImageEncoder as _;
    use img_parts::ImageICC as _;

    const LIMIT: u64 = 50_000_000;

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    fn utc(text: &str) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    #[test]
    fn reads_the_iptc_sample_exactly() {
        let jpeg = fixtures::iptc_sample_jpeg(32, 24);
        assert_eq!(
            extract(&jpeg, Format::Jpeg),
            Embedded {
                credit: Some("Jane Doe".into()),
                source: Some("Wire Agency".into()),
                copyright: Some("© 2026 Wire Agency".into()),
                caption: Some("Firefighters at dawn".into()),
                taken_at: utc("2026-03-14T05:30:00Z"),
            }
        );
    }

    fn iim(datasets: &[(u8, &[u8])]) -> Vec<u8> {
        let mut data = Vec::new();
        for (number, value) in datasets {
            data.extend_from_slice(&[0x1C, 2, *number]);
            data.extend_from_slice(&(value.len() as u16).to_be_bytes());
            data.extend_from_slice(value);
        }
        data
    }

    fn iptc_jpeg(datasets: &[(u8, &[u8])]) -> Vec<u8> {
        let app13 = fixtures::photoshop_iptc(&iim(datasets));
        fixtures::with_segments(&fixtures::sample_jpeg(8, 8), &[(0xED, app13)])
    }

    #[test]
    fn iptc_text_is_latin1_when_not_utf8_cleaned_and_capped() {
        let long = "x".repeat(3000);
        let jpeg = iptc_jpeg(&[
            (80, b"Ren\xE9 Dupont"),
            (80, b"Second\tShooter"),
            (115, b"  Pool\0 Photo \x07"),
            (120, long.as_bytes()),
            (55, b"20260314"),
        ]);
        let embedded = extract(&jpeg, Format::Jpeg);
        assert_eq!(
            embedded.credit.as_deref(),
            Some("René Dupont, Second Shooter")
        );
        // Without a Credit dataset, Source is the source.
        assert_eq!(embedded.source.as_deref(), Some("Pool Photo"));
        assert_eq!(embedded.caption.map(|c| c.chars().count()), Some(2000));
        // A date without a time is midnight UTC.
        assert_eq!(embedded.taken_at, utc("2026-03-14T00:00:00Z"));
    }

    const XMP: &str = r#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:ps="http://ns.adobe.com/photoshop/1.0/" ps:Credit="Xmp Agency &amp; Partners"
     ps:DateCreated="2024-07-01T18:45:10+02:00">
   <dc:creator><rdf:Seq><rdf:li>Ann Xmp</rdf:li><rdf:li>Bo Xmp</rdf:li></rdf:Seq></dc:creator>
   <dc:rights><rdf:Alt><rdf:li xml:lang="fr">Droits</rdf:li><rdf:li xml:lang="x-default">© Xmp Rights</rdf:li></rdf:Alt></dc:rights>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">Flood &#x2014; river <![CDATA[bank]]></rdf:li></rdf:Alt></dc:description>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"#;

    fn xmp_app1(xml: &str) -> (u8, Vec<u8>) {
        let mut payload = XMP_PREFIX.to_vec();
        payload.extend_from_slice(xml.as_bytes());
        (0xE1, payload)
    }

    #[test]
    fn reads_xmp_with_any_prefix_attributes_and_language_alternatives() {
        let jpeg = fixtures::with_segments(&fixtures::sample_jpeg(8, 8), &[xmp_app1(XMP)]);
        assert_eq!(
            extract(&jpeg, Format::Jpeg),
            Embedded {
                credit: Some("Ann Xmp, Bo Xmp".into()),
                source: Some("Xmp Agency & Partners".into()),
                copyright: Some("© Xmp Rights".into()),
                caption: Some("Flood — river bank".into()),
                taken_at: utc("2024-07-01T16:45:10Z"),
            }
        );
    }

    #[test]
    fn iptc_comes_before_xmp_which_comes_before_exif() {
        let mut exif = EXIF_PREFIX.to_vec();
        exif.extend_from_slice(&fixtures::private_exif(1));
        let app13 = fixtures::photoshop_iptc(&iim(&[(80, b"Iptc Person")]));
        let jpeg = fixtures::with_segments(
            &fixtures::sample_jpeg(8, 8),
            &[(0xE1, exif.clone()), xmp_app1(XMP), (0xED, app13)],
        );
        let embedded = extract(&jpeg, Format::Jpeg);
        assert_eq!(embedded.credit.as_deref(), Some("Iptc Person"));
        assert_eq!(embedded.copyright.as_deref(), Some("© Xmp Rights"));
        assert_eq!(embedded.taken_at, utc("2024-07-01T16:45:10Z"));

        let only_exif = fixtures::with_segments(&fixtures::sample_jpeg(8, 8), &[(0xE1, exif)]);
        assert_eq!(
            extract(&only_exif, Format::Jpeg),
            Embedded {
                credit: Some("Exif Artist".into()),
                source: None,
                copyright: Some("Exif Copyright".into()),
                caption: None,
                taken_at: utc("2025-11-02T12:15:16Z"),
            }
        );
    }

    /// `png` with `chunks` inserted after IHDR.
    fn png_with(png: &[u8], chunks: Vec<PngChunk>) -> Vec<u8> {
        let mut png = Png::from_bytes(Bytes::copy_from_slice(png)).expect("a PNG");
        for (i, chunk) in chunks.into_iter().enumerate() {
            png.chunks_mut().insert(1 + i, chunk);
        }
        png.encoder().bytes().to_vec()
    }

    fn itxt(xml: &str) -> PngChunk {
        let mut data = XMP_KEYWORD.to_vec();
        data.extend_from_slice(b"\0\0\0\0\0");
        data.extend_from_slice(xml.as_bytes());
        PngChunk::new(*b"iTXt", Bytes::from(data))
    }

    #[test]
    fn reads_png_and_webp_metadata() {
        let png = png_with(
            &fixtures::sample_png(8, 8),
            vec![
                PngChunk::new(*b"eXIf", Bytes::from(fixtures::private_exif(1))),
                itxt(XMP),
            ],
        );
        let embedded = extract(&png, Format::Png);
        assert_eq!(embedded.credit.as_deref(), Some("Ann Xmp, Bo Xmp"));
        assert_eq!(embedded.caption.as_deref(), Some("Flood — river bank"));

        let mut webp = WebP::from_bytes(Bytes::from(fixtures::sample_webp(8, 8))).expect("a WebP");
        webp.set_exif(Some(Bytes::from(fixtures::private_exif(1))));
        let webp = webp.encoder().bytes().to_vec();
        let embedded = extract(&webp, Format::Webp);
        assert_eq!(embedded.credit.as_deref(), Some("Exif Artist"));
        assert_eq!(embedded.taken_at, utc("2025-11-02T12:15:16Z"));
    }

    #[test]
    fn an_element_with_many_attributes_is_read_in_linear_time() {
        // 60,000 attributes took minutes with quick-xml's duplicate check on.
        let attributes: String = (0..60_000).map(|i| format!(" a{i:07}=\"\"")).collect();
        let packet = format!(
            "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"{}\">\
             <rdf:Description{attributes}/></rdf:RDF></x:xmpmeta>",
            String::from_utf8_lossy(NS_RDF)
        );
        let started = std::time::Instant::now();
        let xmp = xmp_fields(packet.as_bytes());
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert!(xmp.creator.is_none());
        let too_large = vec![b' '; MAX_XMP + 1];
        assert!(xmp_fields(&too_large).creator.is_none());
    }

    #[test]
    fn xmp_dates_in_their_shapes() {
        assert_eq!(xmp_date("2026-03-14"), utc("2026-03-14T00:00:00Z"));
        assert_eq!(xmp_date("2026-03-14T06:30"), utc("2026-03-14T06:30:00Z"));
        assert_eq!(
            xmp_date("2026-03-14T06:30+01:00"),
            utc("2026-03-14T05:30:00Z")
        );
        assert_eq!(
            xmp_date("2026-03-14T06:30:05.25Z"),
            utc("2026-03-14T06:30:05.25Z")
        );
        assert_eq!(xmp_date("2026-03"), None);
        assert_eq!(xmp_date("yesterday"), None);
        assert_eq!(
            iptc_date("20260314", Some("063000-0500")),
            utc("2026-03-14T11:30:00Z")
        );
        assert_eq!(iptc_date("2026031", None), None);
    }

    #[test]
    fn garbage_metadata_is_ignored_without_panicking() {
        let mut seed = 11u32;
        let mut noise = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    (seed >> 16) as u8
                })
                .collect()
        };
        let base = fixtures::sample_jpeg(8, 8);
        for n in [0, 1, 3, 7, 20, 200, 2000] {
            let mut exif = EXIF_PREFIX.to_vec();
            exif.extend_from_slice(&noise(n));
            let mut xmp = XMP_PREFIX.to_vec();
            xmp.extend_from_slice(&noise(n));
            let mut app13 = PHOTOSHOP_PREFIX.to_vec();
            app13.extend_from_slice(b"8BIM\x04\x04");
            app13.extend_from_slice(&noise(n));
            let iptc =
                fixtures::photoshop_iptc(&[&[0x1C, 2, 80, 0xFF, 0xFF][..], &noise(n)].concat());
            let jpeg = fixtures::with_segments(
                &base,
                &[(0xE1, exif), (0xE1, xmp), (0xED, app13), (0xED, iptc)],
            );
            let _ = extract(&jpeg, Format::Jpeg);
            let _ = extract(&noise(n), Format::Png);
            let _ = extract(&noise(n), Format::Webp);
            let _ = strip(&jpeg, Format::Jpeg, false);
            // Truncated everywhere.
            for cut in (0..jpeg.len()).step_by(37) {
                let _ = extract(&jpeg[..cut], Format::Jpeg);
                let _ = strip(&jpeg[..cut], Format::Jpeg, false);
            }
        }
        let broken_xmp = "<x:xmpmeta><rdf:RDF><dc:creator><rdf:Seq><rdf:li>Half";
        let jpeg = fixtures::with_segments(&base, &[xmp_app1(broken_xmp)]);
        assert_eq!(extract(&jpeg, Format::Jpeg), Embedded::default());
    }

    /// The EXIF fields of a stripped JPEG (tag names).
    fn exif_tags(jpeg: &[u8]) -> Vec<String> {
        let Some(tiff) = blocks(jpeg, Format::Jpeg).exif else {
            return Vec::new();
        };
        let exif = read_exif(&tiff).expect("readable EXIF");
        exif.fields().map(|f| f.tag.to_string()).collect()
    }

    #[test]
    fn strips_gps_and_everything_private_from_a_jpeg_but_the_orientation() {
        let original = fixtures::gps_jpeg(40, 20);
        assert!(exif_tags(&original).iter().any(|t| t.starts_with("GPS")));
        assert!(contains(&original, b"SN-0042-SECRET"));

        let kept = strip(&original, Format::Jpeg, true).expect("kept");
        assert_eq!(kept, original);

        let public = strip(&original, Format::Jpeg, false).expect("stripped");
        assert_eq!(exif_tags(&public), ["Orientation"]);
        for secret in [
            &b"SN-0042-SECRET"[..],
            b"Dispatch Test Camera",
            b"shot at",
            b"Exif Artist",
        ] {
            assert!(!contains(&public, secret));
        }
        assert_eq!(extract(&public, Format::Jpeg), Embedded::default());
        // Still the same picture, the same way up.
        let displayed = |bytes: &[u8]| probe(bytes, LIMIT).map(|p| (p.width, p.height));
        assert_eq!(displayed(&public), Ok((20, 40)));
        let decoded = decode(&public, Format::Jpeg, LIMIT).map(|i| (i.width(), i.height()));
        assert_eq!(decoded, Ok((20, 40)));
        let pixels = |bytes: &[u8]| decode(bytes, Format::Jpeg, LIMIT).map(|i| i.into_bytes());
        assert_eq!(pixels(&public), pixels(&original));
    }

    #[test]
    fn strips_iptc_and_xmp_and_keeps_the_icc_profile_of_a_jpeg() {
        let mut icc = b"ICC_PROFILE\0\x01\x01".to_vec();
        icc.extend_from_slice(b"a colour profile");
        let original = fixtures::with_segments(
            &fixtures::iptc_sample_jpeg(16, 16),
            &[xmp_app1(XMP), (0xE2, icc)],
        );
        let public = strip(&original, Format::Jpeg, false).expect("stripped");
        assert_eq!(extract(&public, Format::Jpeg), Embedded::default());
        assert!(!contains(&public, b"Jane Doe") && !contains(&public, b"Photoshop"));
        assert!(contains(&public, b"a colour profile"));
        // Orientation 1 needs no EXIF at all.
        assert!(!contains(&public, b"Exif\0\0"));
        assert!(decode(&public, Format::Jpeg, LIMIT).is_ok());
        assert!(public.len() < original.len());
        // A JPEG cut short cannot be rewritten.
        let cut = &original[..original.len() / 2];
        assert!(matches!(
            strip(cut, Format::Jpeg, false),
            Err(Refusal::Broken(_))
        ));
    }

    fn png_with_icc(width: u32, height: u32) -> Vec<u8> {
        let image = fixtures::photo_like(width, height);
        let mut bytes = Vec::new();
        let mut encoder = image::codecs::png::PngEncoder::new(&mut bytes);
        encoder
            .set_icc_profile(b"a colour profile".to_vec())
            .expect("PNG takes ICC");
        encoder
            .write_image(&image, width, height, image::ExtendedColorType::Rgb8)
            .expect("encoded");
        bytes
    }

    #[test]
    fn strips_a_png_losslessly() {
        let original = png_with(
            &png_with_icc(40, 20),
            vec![
                PngChunk::new(*b"eXIf", Bytes::from(fixtures::private_exif(6))),
                itxt(XMP),
                PngChunk::new(*b"tEXt", Bytes::from_static(b"Comment\0secret note")),
            ],
        );
        let kinds = |bytes: &[u8]| -> Vec<String> {
            png_chunks(bytes)
                .iter()
                .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
                .collect()
        };
        let public = strip(&original, Format::Png, false).expect("stripped");
        assert_eq!(kinds(&public), ["IHDR", "iCCP", "eXIf", "IDAT", "IEND"]);
        let exif = blocks(&public, Format::Png).exif.expect("orientation EXIF");
        assert_eq!(exif, orientation_exif(6));
        assert_eq!(extract(&public, Format::Png), Embedded::default());
        let decoded = |bytes: &[u8]| decode(bytes, Format::Png, LIMIT).map(|i| i.into_bytes());
        assert_eq!(decoded(&public), decoded(&original));
        assert_eq!(
            probe(&public, LIMIT).map(|p| (p.width, p.height)),
            Ok((20, 40))
        );

        assert_eq!(
            strip(&original, Format::Png, true).as_deref(),
            Ok(&original[..])
        );
        // A chunk whose checksum fails cannot be rewritten.
        let mut damaged = original.clone();
        let last = damaged.len() - 20;
        damaged[last] ^= 0xFF;
        assert!(matches!(
            strip(&damaged, Format::Png, false),
            Err(Refusal::Broken(_))
        ));
    }

    #[test]
    fn strips_a_webp_losslessly() {
        let mut webp =
            WebP::from_bytes(Bytes::from(fixtures::sample_webp(40, 20))).expect("a WebP");
        webp.set_exif(Some(Bytes::from(fixtures::private_exif(6))));
        webp.set_icc_profile(Some(Bytes::from_static(b"a colour profile")));
        webp.chunks_mut().push(img_parts::riff::RiffChunk::new(
            *b"XMP ",
            RiffContent::Data(Bytes::from(XMP.as_bytes().to_vec())),
        ));
        let mut original = webp.encoder().bytes().to_vec();
        // img-parts does not flag an XMP chunk pushed by hand; a real writer does.
        let vp8x = original
            .windows(4)
            .position(|w| w == b"VP8X")
            .expect("VP8X")
            + 8;
        original[vp8x] |= 0b0000_0100;
        assert_eq!(
            extract(&original, Format::Webp).credit.as_deref(),
            Some("Ann Xmp, Bo Xmp")
        );

        let public = strip(&original, Format::Webp, false).expect("stripped");
        let ids: Vec<[u8; 4]> = riff_chunks(&public).iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, [*b"VP8X", *b"ICCP", *b"VP8 ", *b"EXIF"]);
        let vp8x = riff_chunks(&public)[0].1[0];
        // ICC and EXIF flags on, XMP off.
        assert_eq!(vp8x & 0b0010_1100, 0b0010_1000);
        assert_eq!(
            blocks(&public, Format::Webp).exif,
            Some(orientation_exif(6))
        );
        assert_eq!(extract(&public, Format::Webp), Embedded::default());
        assert!(!contains(&public, b"SN-0042-SECRET"));
        let decoded = |bytes: &[u8]| decode(bytes, Format::Webp, LIMIT).map(|i| i.into_bytes());
        assert_eq!(decoded(&public), decoded(&original));
        assert_eq!(
            probe(&public, LIMIT).map(|p| (p.width, p.height)),
            Ok((20, 40))
        );
    }

    #[test]
    fn strips_comments_and_foreign_extensions_from_a_gif() {
        let original = fixtures::sample_gif(16, 8);
        // An XMP application extension before the trailer.
        let mut with_xmp = original[..original.len() - 1].to_vec();
        with_xmp.extend_from_slice(&[0x21, 0xFF, 11]);
        with_xmp.extend_from_slice(b"XMP DataXMP");
        with_xmp.extend_from_slice(&[5]);
        with_xmp.extend_from_slice(b"<xmp>");
        with_xmp.extend_from_slice(&[0, 0x3B]);
        assert!(contains(&with_xmp, b"made by Dispatch"));

        let public = strip(&with_xmp, Format::Gif, false).expect("stripped");
        assert!(!contains(&public, b"made by Dispatch"));
        assert!(!contains(&public, b"XMP DataXMP"));
        assert!(contains(&public, b"NETSCAPE2.0"));
        assert_eq!(public.len(), original.len() - (2 + 1 + 16 + 1));
        let decoded = |bytes: &[u8]| decode(bytes, Format::Gif, LIMIT).map(|i| i.into_bytes());
        assert_eq!(decoded(&public), decoded(&original));
        let cut = &original[..original.len() * 6 / 10];
        assert!(matches!(
            strip(cut, Format::Gif, false),
            Err(Refusal::Broken(_))
        ));
    }
}
