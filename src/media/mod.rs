//! News photos as bytes and pixels: what a file is, the metadata in it, and its renditions (pure and synchronous; storage and the API live elsewhere).

pub mod fixtures;
pub mod image;
pub mod metadata;
pub mod render;
