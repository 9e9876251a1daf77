//! Which page of a list a citizen asks for.

use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

/// A 1-based page number, at most [`PageNumber::MAX`]: no list a citizen
/// pages through is that long, so a larger number is a mistake, not an
/// empty page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct PageNumber(u32);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be a page number from 1 to {}", PageNumber::MAX)]
pub struct PageError;

impl PageNumber {
    pub const MAX: u32 = 10_000;
    pub const FIRST: PageNumber = PageNumber(1);

    pub fn new(number: u32) -> Result<PageNumber, PageError> {
        if (1..=Self::MAX).contains(&number) {
            Ok(PageNumber(number))
        } else {
            Err(PageError)
        }
    }

    /// The page nearest to `number` that exists: for addresses typed by
    /// hand, where a page past the end shows the last one.
    pub fn nearest(number: u32) -> PageNumber {
        PageNumber(number.clamp(1, Self::MAX))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl FromStr for PageNumber {
    type Err = PageError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        input
            .trim()
            .parse::<u32>()
            .map_err(|_| PageError)
            .and_then(PageNumber::new)
    }
}

impl TryFrom<u32> for PageNumber {
    type Error = PageError;

    fn try_from(number: u32) -> Result<Self, Self::Error> {
        PageNumber::new(number)
    }
}

impl From<PageNumber> for u32 {
    fn from(page: PageNumber) -> u32 {
        page.0
    }
}

impl fmt::Display for PageNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_run_from_one_to_ten_thousand() {
        assert_eq!("1".parse::<PageNumber>().unwrap().get(), 1);
        assert_eq!("10000".parse::<PageNumber>().unwrap().get(), 10_000);
        for bad in ["0", "-1", "10001", "abc", "", "1.5"] {
            assert_eq!(bad.parse::<PageNumber>(), Err(PageError), "{bad}");
        }
        assert_eq!(PageNumber::nearest(0), PageNumber::FIRST);
        assert_eq!(PageNumber::nearest(99_999).get(), PageNumber::MAX);
    }
}
