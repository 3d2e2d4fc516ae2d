//! (being written: webhook signing)
