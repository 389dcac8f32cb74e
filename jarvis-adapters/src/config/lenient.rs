//! A serde deserializer over a merged TOML tree that forgives the types
//! environment variables cannot express: `"5"` fills a number, `"true"` a bool,
//! and `12345` a string (a numeric password set through the environment).

use std::fmt;

use serde::de::value::{MapAccessDeserializer, MapDeserializer, SeqDeserializer};
use serde::de::{self, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;
use toml::Value;

/// A deserialization problem; the path is added by `serde_path_to_error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeError(pub String);

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError(msg.to_string())
    }
}

/// One value of the merged tree.
pub(crate) struct Lenient(pub Value);

impl<'de> IntoDeserializer<'de, DeError> for Lenient {
    type Deserializer = Lenient;
    fn into_deserializer(self) -> Lenient {
        self
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a datetime",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

macro_rules! int {
    ($($method:ident),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            match self.0 {
                Value::String(s) => {
                    let t = s.trim();
                    if let Ok(i) = t.parse::<i64>() {
                        visitor.visit_i64(i)
                    } else if let Ok(u) = t.parse::<u64>() {
                        visitor.visit_u64(u)
                    } else {
                        Err(DeError(format!("expected an integer, found {s:?}")))
                    }
                }
                other => Lenient(other).deserialize_any(visitor),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Lenient {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Value::String(s) => visitor.visit_string(s),
            Value::Integer(i) => visitor.visit_i64(i),
            Value::Float(f) => visitor.visit_f64(f),
            Value::Boolean(b) => visitor.visit_bool(b),
            Value::Datetime(d) => visitor.visit_string(d.to_string()),
            Value::Array(items) => {
                let mut seq = SeqDeserializer::new(items.into_iter().map(Lenient));
                let value = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(value)
            }
            Value::Table(table) => {
                let mut map = MapDeserializer::new(table.into_iter().map(|(k, v)| (k, Lenient(v))));
                let value = visitor.visit_map(&mut map)?;
                map.end()?;
                Ok(value)
            }
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" | "1" => visitor.visit_bool(true),
                "false" | "no" | "off" | "0" => visitor.visit_bool(false),
                _ => Err(DeError(format!("expected true or false, found {s:?}"))),
            },
            other => Lenient(other).deserialize_any(visitor),
        }
    }

    int!(
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64
    );

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Value::String(s) => match s.trim().parse::<f64>() {
                Ok(f) => visitor.visit_f64(f),
                Err(_) => Err(DeError(format!("expected a number, found {s:?}"))),
            },
            Value::Integer(i) => visitor.visit_f64(i as f64),
            other => Lenient(other).deserialize_any(visitor),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Value::Integer(i) => visitor.visit_string(i.to_string()),
            Value::Float(f) => visitor.visit_string(f.to_string()),
            Value::Boolean(b) => visitor.visit_string(b.to_string()),
            other @ (Value::Array(_) | Value::Table(_)) => Err(DeError(format!(
                "expected a string, found {}",
                kind(&other)
            ))),
            other => Lenient(other).deserialize_any(visitor),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.0 {
            Value::String(s) => visitor.visit_enum(s.into_deserializer()),
            Value::Table(table) if table.len() == 1 => {
                let map = MapDeserializer::new(table.into_iter().map(|(k, v)| (k, Lenient(v))));
                visitor.visit_enum(MapAccessDeserializer::new(map))
            }
            other => Err(DeError(format!(
                "expected a variant name, found {}",
                kind(&other)
            ))),
        }
    }

    forward_to_deserialize_any! {
        i128 u128 bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// Deserializes `value` into `T`; the error names the dotted path below `prefix`.
pub(crate) fn from_value<T: de::DeserializeOwned>(prefix: &str, value: Value) -> Result<T, String> {
    serde_path_to_error::deserialize(Lenient(value)).map_err(|e| {
        let path = e.path().to_string();
        let key = match (prefix.is_empty(), path.as_str()) {
            (true, p) => p.to_string(),
            (false, "." | "") => prefix.to_string(),
            (false, p) if p.starts_with('[') => format!("{prefix}{p}"),
            (false, p) => format!("{prefix}.{p}"),
        };
        format!("{key}: {}", e.into_inner())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct T {
        n: u32,
        f: f64,
        b: bool,
        s: String,
        o: Option<String>,
        v: Vec<u16>,
    }

    fn parse(src: &str) -> Value {
        Value::Table(src.parse::<toml::Table>().unwrap())
    }

    #[test]
    fn strings_fill_numbers_and_numbers_fill_strings() {
        let t: T = from_value(
            "x",
            parse(
                r#"n = "5"
f = 2
b = "true"
s = 12345
o = 7
v = ["1", 2]"#,
            ),
        )
        .unwrap();
        assert_eq!(
            t,
            T {
                n: 5,
                f: 2.0,
                b: true,
                s: "12345".into(),
                o: Some("7".into()),
                v: vec![1, 2]
            }
        );
    }

    #[test]
    fn errors_name_the_key() {
        let err = from_value::<T>(
            "x",
            parse("n = \"many\"\nf = 1\nb = true\ns = \"\"\nv = []"),
        )
        .unwrap_err();
        assert_eq!(err, "x.n: expected an integer, found \"many\"");
        let err = from_value::<T>(
            "x",
            parse("n = 1\nf = 1\nb = true\ns = \"\"\nv = []\nzz = 1"),
        )
        .unwrap_err();
        assert!(err.starts_with("x.zz: unknown field `zz`"), "{err}");
        let err = from_value::<T>("x", parse("n = 1\nf = 1\nb = true\ns = \"\"\nv = [\"a\"]"))
            .unwrap_err();
        assert!(err.starts_with("x.v[0]: "), "{err}");
    }
}
