//! How a search query is split into words, the same for both backends:
//! runs of letters and digits, at most [`MAX_QUERY_WORDS`] of them. Only
//! letters and digits come through, so no index's query syntax can.

use chat_api::SearchQuery;

/// Most words of a query that are looked up.
pub(crate) const MAX_QUERY_WORDS: usize = 8;

/// One word to look up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueryWord<'a> {
    /// Letters and digits only.
    pub(crate) text: &'a str,
    /// Whether it also matches as the start of a longer word. A
    /// one-letter prefix would match a large part of the index, so it does
    /// not.
    pub(crate) prefix: bool,
}

/// The words of `query`; empty when it has none.
pub(crate) fn query_words(query: &SearchQuery) -> Vec<QueryWord<'_>> {
    query
        .as_str()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(MAX_QUERY_WORDS)
        .map(|text| QueryWord { text, prefix: text.chars().nth(1).is_some() })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_letters_and_digits_and_short_ones_are_whole() {
        let query = SearchQuery::parse("héllo, w \"x*\" NEAR(").unwrap();
        let words: Vec<(&str, bool)> = query_words(&query).iter().map(|w| (w.text, w.prefix)).collect();
        assert_eq!(words, [("héllo", true), ("w", false), ("x", false), ("NEAR", true)]);
        let many = SearchQuery::parse(&"ab ".repeat(20)).unwrap();
        assert_eq!(query_words(&many).len(), MAX_QUERY_WORDS);
    }
}
