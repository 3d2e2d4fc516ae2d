//! (being written: webhook worker)
