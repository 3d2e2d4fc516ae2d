//! The Media RSS elements (`http://search.yahoo.com/mrss/`) of a feed item's photo,
//! shared by the Atom and RSS documents: `media:content` with its credit, caption
//! (`media:description`) and alt text (`media:text`), and `media:thumbnail`.

use super::model::Image;

/// The Media RSS namespace, declared as `xmlns:media`.
pub const NAMESPACE: &str = "http://search.yahoo.com/mrss/";

/// An element, before it becomes one of each crate's extension type.
pub struct Node {
    /// The qualified name (`media:content`).
    pub name: &'static str,
    /// The local name, by which a parent keys its children.
    pub local: &'static str,
    pub attrs: Vec<(&'static str, String)>,
    pub value: Option<String>,
    pub children: Vec<Node>,
}

fn node(
    local: &'static str,
    name: &'static str,
    attrs: Vec<(&'static str, String)>,
    value: Option<String>,
) -> Node {
    Node {
        name,
        local,
        attrs,
        value,
        children: Vec::new(),
    }
}

/// `media:content` and `media:thumbnail` for `image`.
pub fn elements(image: &Image) -> Vec<Node> {
    let mut content = node(
        "content",
        "media:content",
        vec![
            ("url", image.url.clone()),
            ("type", image.media_type.to_string()),
            ("medium", "image".to_string()),
            ("width", image.width.to_string()),
            ("height", image.height.to_string()),
        ],
        None,
    );
    if let Some(credit) = &image.credit {
        content.children.push(node(
            "credit",
            "media:credit",
            vec![("role", "photographer".into())],
            Some(credit.clone()),
        ));
    }
    if let Some(caption) = &image.caption {
        content.children.push(node(
            "description",
            "media:description",
            vec![("type", "plain".into())],
            Some(caption.clone()),
        ));
    }
    if let Some(alt) = &image.alt {
        content.children.push(node(
            "text",
            "media:text",
            vec![("type", "plain".into())],
            Some(alt.clone()),
        ));
    }
    let thumbnail = node(
        "thumbnail",
        "media:thumbnail",
        vec![
            ("url", image.thumbnail_url.clone()),
            ("width", image.thumbnail_width.to_string()),
            ("height", image.thumbnail_height.to_string()),
        ],
        None,
    );
    vec![content, thumbnail]
}

/// Converts nodes into a crate's extension type (whose parts are the same) as a
/// map from local names to elements; `attr` prepares each attribute value.
macro_rules! extension_map {
    ($ty:ty, $nodes:expr, $attr:expr) => {{
        fn convert(node: $crate::api::feeds::media::Node, attr: &dyn Fn(String) -> String) -> $ty {
            let mut children: std::collections::BTreeMap<String, Vec<$ty>> =
                std::collections::BTreeMap::new();
            for child in node.children {
                children
                    .entry(child.local.to_string())
                    .or_default()
                    .push(convert(child, attr));
            }
            let mut ext = <$ty>::default();
            ext.name = node.name.to_string();
            ext.value = node.value;
            ext.attrs = node
                .attrs
                .into_iter()
                .map(|(k, v)| (k.to_string(), attr(v)))
                .collect();
            ext.children = children;
            ext
        }
        let mut map: std::collections::BTreeMap<String, Vec<$ty>> =
            std::collections::BTreeMap::new();
        for node in $nodes {
            map.entry(node.local.to_string())
                .or_default()
                .push(convert(node, &$attr));
        }
        map
    }};
}
pub(crate) use extension_map;
