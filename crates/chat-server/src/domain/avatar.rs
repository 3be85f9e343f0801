//! The cat every new account starts with.

use chat_api::{Avatar, Breed, CatColor, Expression, UserName};

/// A cat picked from the username, so the same name always gets the same
/// cat (FNV-1a over the case-folded name).
pub(crate) fn default_for(name: &UserName) -> Avatar {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.key().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let pick = |n: usize, shift: u32| ((hash >> shift) as usize) % n;
    Avatar {
        breed: Breed::ALL[pick(Breed::ALL.len(), 0)],
        color: CatColor::ALL[pick(CatColor::ALL.len(), 16)],
        expression: Expression::ALL[pick(Expression::ALL.len(), 32)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_name_in_any_case_gets_the_same_cat() {
        let a = default_for(&UserName::parse("Alice").unwrap());
        let b = default_for(&UserName::parse("alice").unwrap());
        assert_eq!(a, b);
    }

    #[test]
    fn names_spread_over_breeds() {
        let breeds: std::collections::HashSet<_> =
            (0..50).map(|i| default_for(&UserName::parse(&format!("user{i}")).unwrap()).breed).collect();
        assert!(breeds.len() > 3);
    }
}
