//! The demo newsroom's fixed ids. `dispatch seed --demo` gives its publishers,
//! authors, tags, articles and photos these ids, in the order of `src/seed/demo.json`, so
//! that the README and the request-body examples in the API docs can name them.
//! Nothing else sets an id: the API never accepts one from a client.

use uuid::Uuid;

/// What a demo id names: the first group of the id (`5eed000K`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Publisher = 1,
    Author = 2,
    Tag = 3,
    Article = 4,
    Media = 5,
}

/// The id of the `n`th (from 1) demo row of a kind:
/// `5eed000K-0000-4000-8000-NNNNNNNNNNNN`, the last group `n` in decimal digits
/// (article 12 is `…-000000000012`). A version-4, RFC 9562 variant UUID.
pub const fn id(kind: Kind, n: u64) -> Uuid {
    // The decimal digits of n, each in one hex digit (12 at most fit).
    let mut digits: u128 = 0;
    let mut rest = n;
    let mut shift = 0;
    while rest > 0 && shift < 48 {
        digits |= ((rest % 10) as u128) << shift;
        rest /= 10;
        shift += 4;
    }
    let prefix = (0x5eed_0000 | kind as u128) << 96;
    Uuid::from_u128(prefix | 0x4000_8000_0000_0000_0000 | digits)
}

/// The Harbor City Ledger (`harbor-city-ledger`).
pub const HARBOR_CITY_LEDGER: Uuid = id(Kind::Publisher, 1);
/// Northlight Wire (`northlight-wire`), the syndication service.
pub const NORTHLIGHT_WIRE: Uuid = id(Kind::Publisher, 3);
/// Maren Okafor (`maren-okafor`), the Ledger's city hall and climate reporter.
pub const MAREN_OKAFOR: Uuid = id(Kind::Author, 1);
/// Tomás Reyes-Lindqvist (`tomas-reyes-lindqvist`), the Ledger's transport correspondent.
pub const TOMAS_REYES_LINDQVIST: Uuid = id(Kind::Author, 2);
/// The demo photo of the sea wall (`Harbour wall at dawn`), featured on the first article.
pub const SEA_WALL_PHOTO: Uuid = id(Kind::Media, 1);
/// The demo photo of the evening ferry, featured on the second article.
pub const FERRY_PHOTO: Uuid = id(Kind::Media, 2);
/// The tag `climate`.
pub const CLIMATE: Uuid = id(Kind::Tag, 1);
/// The tag `local-politics`.
pub const LOCAL_POLITICS: Uuid = id(Kind::Tag, 2);
/// The tag `transport`.
pub const TRANSPORT: Uuid = id(Kind::Tag, 3);
/// The tag `business`.
pub const BUSINESS: Uuid = id(Kind::Tag, 6);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_agreed_pattern() {
        assert_eq!(
            id(Kind::Publisher, 1).to_string(),
            "5eed0001-0000-4000-8000-000000000001"
        );
        assert_eq!(
            id(Kind::Article, 20).to_string(),
            "5eed0004-0000-4000-8000-000000000020"
        );
        assert_eq!(
            id(Kind::Tag, 8).to_string(),
            "5eed0003-0000-4000-8000-000000000008"
        );
        assert_eq!(id(Kind::Author, 6).get_version_num(), 4);
    }
}
