//! A string that never prints itself.
//!
//! OAuth tokens, client secrets and InfluxDB credentials travel through the program in [`Secret`], whose
//! `Debug` and `Display` say `[redacted]`. Reading the value takes an explicit [`Secret::expose`], so every
//! place that uses a secret is easy to find.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret's value. Call only where the value is sent somewhere it belongs.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A short, stable, non-reversible fingerprint (`sha256:` + 16 hex digits) that can be stored or
    /// logged to tell two secrets apart without revealing either.
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(self.0.as_bytes());
        let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        format!("sha256:{hex}")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value() {
        let s = Secret::new("1//0gSECRETVALUE");
        assert!(!format!("{s:?}").contains("SECRETVALUE"));
        assert!(!format!("{s}").contains("SECRETVALUE"));
        assert_eq!(s.expose(), "1//0gSECRETVALUE");
    }

    #[test]
    fn fingerprint_is_sha256_prefix() {
        // sha256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        assert_eq!(Secret::new("abc").fingerprint(), "sha256:ba7816bf8f01cfea");
        assert_ne!(
            Secret::new("abd").fingerprint(),
            Secret::new("abc").fingerprint()
        );
    }
}
