//! Enum values in the configuration, read by name.
//!
//! The `config` crate deserializes enums itself and answers an unknown
//! name with "enum LogFormat does not have variant constructor xml", which
//! names a Rust type and not one valid value. Reading the value as a string
//! and handing it to serde's own string deserializer gives serde's message
//! instead: "unknown variant `xml`, expected one of `pretty`, `json`,
//! `compact`".

use serde::{Deserialize, Deserializer, de::DeserializeOwned};

/// `deserialize_with` for a field whose type is an enum of unit variants.
pub(super) fn by_name<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let name = String::deserialize(deserializer)?;
    T::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(&name))
        .map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LogFormat;

    #[derive(Debug, Deserialize)]
    struct Holder {
        #[serde(deserialize_with = "by_name")]
        format: LogFormat,
    }

    #[test]
    fn a_known_name_is_read_and_an_unknown_one_lists_the_valid_names() {
        let ok: Holder = serde_json::from_str(r#"{"format": "json"}"#).unwrap();
        assert_eq!(ok.format, LogFormat::Json);
        let err = serde_json::from_str::<Holder>(r#"{"format": "xml"}"#).unwrap_err().to_string();
        assert!(err.contains("unknown variant `xml`, expected one of `pretty`, `json`, `compact`"), "{err}");
    }
}
