//! `c_enum!`: a Rust enum over a C integer type, declared once as a list of
//! `Variant = C_CONSTANT => "text"` lines. The list yields the enum, `ALL` (every value in
//! order), `from_raw` (checked, never transmuted) and `text` (a static NUL-terminated string).
//!
//! The C constants themselves stay plain `pub const` items next to the list: cbindgen reads
//! the source without expanding macros, so the header's `#define`s come from them.

/// Declares a C-numbered enum from one list; see the module documentation.
macro_rules! c_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $code:ident => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[repr(u32)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$variant_meta])* $variant = $code, )+
        }

        impl $name {
            /// Every value, in the order of the list.
            pub const ALL: [$name; [$(stringify!($variant)),+].len()] = [$($name::$variant),+];

            /// Maps a C integer to a value; `None` for integers outside the list.
            #[inline(always)]
            pub const fn from_raw(raw: u32) -> Option<$name> {
                match raw {
                    $( $code => Some($name::$variant), )+
                    _ => None,
                }
            }

            /// The value's static, NUL-terminated text.
            pub(crate) const fn text(self) -> &'static [u8] {
                match self {
                    $( $name::$variant => concat!($text, "\0").as_bytes(), )+
                }
            }

            /// The name of the value's C constant (for tests of the texts; not every enum's tests
            /// need it).
            #[cfg(test)]
            #[allow(dead_code)]
            pub(crate) const fn code_name(self) -> &'static str {
                match self {
                    $( $name::$variant => stringify!($code), )+
                }
            }
        }
    };
}
pub(crate) use c_enum;

#[cfg(all(test, not(loom)))]
mod tests {
    const FIRST: u32 = 3;
    const SECOND: u32 = 7;

    c_enum! {
        /// A test enum with gaps in its numbering.
        pub enum Sample {
            /// The first.
            First = FIRST => "first",
            /// The second.
            Second = SECOND => "second",
        }
    }

    #[test]
    fn the_list_gives_all_from_raw_and_text() {
        assert_eq!(Sample::ALL, [Sample::First, Sample::Second]);
        assert_eq!(Sample::from_raw(3), Some(Sample::First));
        assert_eq!(Sample::from_raw(7), Some(Sample::Second));
        for raw in [0, 4, 8, u32::MAX] {
            assert_eq!(Sample::from_raw(raw), None);
        }
        assert_eq!(Sample::Second.text(), b"second\0");
        assert_eq!(Sample::Second as u32, 7);
        assert_eq!(Sample::First.code_name(), "FIRST");
    }
}
