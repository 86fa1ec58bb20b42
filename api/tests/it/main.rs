//! Integration tests of trestle-api: the file formats and the authorization domain.

mod files;
