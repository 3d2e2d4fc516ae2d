//! News photos below the domain: what an image file is and holds (type, size, news
//! metadata), its renditions, and where the files live. No database here.

pub mod fixtures;
pub mod image;
pub mod metadata;
pub mod render;
pub mod storage;
