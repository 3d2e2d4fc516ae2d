//! News photos below the domain: what an image file is and holds (type, size,
//! news metadata), its renditions and their names, and where the files live. No
//! database here: the assets' rows are `content::media`'s.

pub mod fixtures;
pub mod image;
pub mod library;
pub mod metadata;
pub mod render;
pub mod renditions;
pub mod storage;

pub use library::Library;
