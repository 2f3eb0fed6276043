//! See tests/ in this folder.
