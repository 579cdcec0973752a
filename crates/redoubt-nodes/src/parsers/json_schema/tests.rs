//! Differential cases: every expected error list and text below was
//! produced by ajv 8.20.0 (`new Ajv({allErrors: true})`, as Node-RED uses it).

use super::*;

fn check(schema: &str, data: &str, errors: &str, text: &str) {
    let schema = Schema::compile(serde_json::from_str(schema).expect("schema")).expect("compiles");
    let errs = schema.validate(&serde_json::from_str(data).expect("data"));
    let got: Vec<Json> = errs.iter().map(SchemaError::to_json).collect();
    assert_eq!(
        Json::Array(got),
        serde_json::from_str::<Json>(errors).expect("errors")
    );
    assert_eq!(errors_text(&errs), text);
}

fn rejected(schema: &str) -> String {
    match Schema::compile(serde_json::from_str(schema).expect("schema")) {
        Ok(_) => panic!("{schema} compiled"),
        Err(e) => e,
    }
}

#[test]
fn upstream_invalid_object() {
    check(
        r#"{"title":"testSchema","type":"object","properties":{"number":{"type":"number"},"string":{"type":"string"}}}"#,
        r#"{"number":"foo","string":3}"#,
        r##"[{"instancePath":"/number","schemaPath":"#/properties/number/type","keyword":"type","params":{"type":"number"},"message":"must be number"},{"instancePath":"/string","schemaPath":"#/properties/string/type","keyword":"type","params":{"type":"string"},"message":"must be string"}]"##,
        r#"data/number must be number, data/string must be string"#,
    );
}

#[test]
fn valid_object() {
    check(
        r#"{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}"#,
        r#"{"a":2}"#,
        r#"[]"#,
        r#""#,
    );
}

#[test]
fn required_and_additional() {
    check(
        r#"{"type":"object","properties":{"a":{"type":"string"}},"required":["a","b"],"additionalProperties":false}"#,
        r#"{"a":1,"c":2}"#,
        r##"[{"instancePath":"","schemaPath":"#/required","keyword":"required","params":{"missingProperty":"b"},"message":"must have required property 'b'"},{"instancePath":"","schemaPath":"#/additionalProperties","keyword":"additionalProperties","params":{"additionalProperty":"c"},"message":"must NOT have additional properties"},{"instancePath":"/a","schemaPath":"#/properties/a/type","keyword":"type","params":{"type":"string"},"message":"must be string"}]"##,
        r#"data must have required property 'b', data must NOT have additional properties, data/a must be string"#,
    );
}

#[test]
fn type_first_when_no_typed_keywords() {
    check(
        r#"{"type":"string","enum":["x","y"]}"#,
        r#"5"#,
        r##"[{"instancePath":"","schemaPath":"#/type","keyword":"type","params":{"type":"string"},"message":"must be string"},{"instancePath":"","schemaPath":"#/enum","keyword":"enum","params":{"allowedValues":["x","y"]},"message":"must be equal to one of the allowed values"}]"##,
        r#"data must be string, data must be equal to one of the allowed values"#,
    );
}

#[test]
fn type_error_deferred_to_its_group() {
    check(
        r#"{"type":"object","required":["a"],"enum":[1]}"#,
        r#"5"#,
        r##"[{"instancePath":"","schemaPath":"#/enum","keyword":"enum","params":{"allowedValues":[1]},"message":"must be equal to one of the allowed values"},{"instancePath":"","schemaPath":"#/type","keyword":"type","params":{"type":"object"},"message":"must be object"}]"##,
        r#"data must be equal to one of the allowed values, data must be object"#,
    );
}

#[test]
fn multiple_types() {
    check(
        r#"{"type":["string","null"]}"#,
        r#"5"#,
        r##"[{"instancePath":"","schemaPath":"#/type","keyword":"type","params":{"type":["string","null"]},"message":"must be string,null"}]"##,
        r#"data must be string,null"#,
    );
}

#[test]
fn integer() {
    check(
        r#"{"type":"integer","minimum":3}"#,
        r#"2.5"#,
        r##"[{"instancePath":"","schemaPath":"#/type","keyword":"type","params":{"type":"integer"},"message":"must be integer"},{"instancePath":"","schemaPath":"#/minimum","keyword":"minimum","params":{"comparison":">=","limit":3},"message":"must be >= 3"}]"##,
        r#"data must be integer, data must be >= 3"#,
    );
}

#[test]
fn number_limits() {
    check(
        r#"{"minimum":1,"maximum":5,"exclusiveMaximum":4,"multipleOf":2}"#,
        r#"5"#,
        r##"[{"instancePath":"","schemaPath":"#/exclusiveMaximum","keyword":"exclusiveMaximum","params":{"comparison":"<","limit":4},"message":"must be < 4"},{"instancePath":"","schemaPath":"#/multipleOf","keyword":"multipleOf","params":{"multipleOf":2},"message":"must be multiple of 2"}]"##,
        r#"data must be < 4, data must be multiple of 2"#,
    );
}

#[test]
fn string_limits_and_pattern() {
    check(
        r#"{"type":"string","minLength":3,"maxLength":4,"pattern":"^a"}"#,
        r#""bb""#,
        r##"[{"instancePath":"","schemaPath":"#/minLength","keyword":"minLength","params":{"limit":3},"message":"must NOT have fewer than 3 characters"},{"instancePath":"","schemaPath":"#/pattern","keyword":"pattern","params":{"pattern":"^a"},"message":"must match pattern \"^a\""}]"##,
        r#"data must NOT have fewer than 3 characters, data must match pattern "^a""#,
    );
}

#[test]
fn string_length_counts_code_points() {
    check(r#"{"maxLength":2}"#, r#""😀😀""#, r#"[]"#, r#""#);
}

#[test]
fn arrays() {
    check(
        r#"{"type":"array","minItems":4,"uniqueItems":true,"items":{"type":"number"}}"#,
        r#"[1,"x",1]"#,
        r##"[{"instancePath":"","schemaPath":"#/minItems","keyword":"minItems","params":{"limit":4},"message":"must NOT have fewer than 4 items"},{"instancePath":"/1","schemaPath":"#/items/type","keyword":"type","params":{"type":"number"},"message":"must be number"},{"instancePath":"","schemaPath":"#/uniqueItems","keyword":"uniqueItems","params":{"i":0,"j":2},"message":"must NOT have duplicate items (items ## 2 and 0 are identical)"}]"##,
        r#"data must NOT have fewer than 4 items, data/1 must be number, data must NOT have duplicate items (items ## 2 and 0 are identical)"#,
    );
}

#[test]
fn tuple_with_additionalitems_false() {
    check(
        r#"{"items":[{"type":"string"},{"type":"number"}],"additionalItems":false}"#,
        r#"["a",1,true]"#,
        r##"[{"instancePath":"","schemaPath":"#/additionalItems","keyword":"additionalItems","params":{"limit":2},"message":"must NOT have more than 2 items"}]"##,
        r#"data must NOT have more than 2 items"#,
    );
}

#[test]
fn tuple_with_additionalitems_schema() {
    check(
        r#"{"items":[{"type":"string"}],"additionalItems":{"type":"number"}}"#,
        r#"[1,2,"x"]"#,
        r##"[{"instancePath":"/2","schemaPath":"#/additionalItems/type","keyword":"type","params":{"type":"number"},"message":"must be number"},{"instancePath":"/0","schemaPath":"#/items/0/type","keyword":"type","params":{"type":"string"},"message":"must be string"}]"##,
        r#"data/2 must be number, data/0 must be string"#,
    );
}

#[test]
fn contains() {
    check(
        r#"{"contains":{"type":"string"}}"#,
        r#"[1,2]"#,
        r##"[{"instancePath":"/0","schemaPath":"#/contains/type","keyword":"type","params":{"type":"string"},"message":"must be string"},{"instancePath":"/1","schemaPath":"#/contains/type","keyword":"type","params":{"type":"string"},"message":"must be string"},{"instancePath":"","schemaPath":"#/contains","keyword":"contains","params":{"minContains":1},"message":"must contain at least 1 valid item(s)"}]"##,
        r#"data/0 must be string, data/1 must be string, data must contain at least 1 valid item(s)"#,
    );
}

#[test]
fn anyof() {
    check(
        r#"{"anyOf":[{"type":"string"},{"type":"number","minimum":10}]}"#,
        r#"5"#,
        r##"[{"instancePath":"","schemaPath":"#/anyOf/0/type","keyword":"type","params":{"type":"string"},"message":"must be string"},{"instancePath":"","schemaPath":"#/anyOf/1/minimum","keyword":"minimum","params":{"comparison":">=","limit":10},"message":"must be >= 10"},{"instancePath":"","schemaPath":"#/anyOf","keyword":"anyOf","params":{},"message":"must match a schema in anyOf"}]"##,
        r#"data must be string, data must be >= 10, data must match a schema in anyOf"#,
    );
}

#[test]
fn oneof_none() {
    check(
        r#"{"oneOf":[{"type":"string"},{"type":"boolean"}]}"#,
        r#"5"#,
        r##"[{"instancePath":"","schemaPath":"#/oneOf/0/type","keyword":"type","params":{"type":"string"},"message":"must be string"},{"instancePath":"","schemaPath":"#/oneOf/1/type","keyword":"type","params":{"type":"boolean"},"message":"must be boolean"},{"instancePath":"","schemaPath":"#/oneOf","keyword":"oneOf","params":{"passingSchemas":null},"message":"must match exactly one schema in oneOf"}]"##,
        r#"data must be string, data must be boolean, data must match exactly one schema in oneOf"#,
    );
}

#[test]
fn oneof_two() {
    check(
        r#"{"oneOf":[{"type":"number"},{"minimum":1}]}"#,
        r#"5"#,
        r##"[{"instancePath":"","schemaPath":"#/oneOf","keyword":"oneOf","params":{"passingSchemas":[0,1]},"message":"must match exactly one schema in oneOf"}]"##,
        r#"data must match exactly one schema in oneOf"#,
    );
}

#[test]
fn allof() {
    check(
        r#"{"allOf":[{"type":"number"},{"maximum":3}]}"#,
        r#"5"#,
        r##"[{"instancePath":"","schemaPath":"#/allOf/1/maximum","keyword":"maximum","params":{"comparison":"<=","limit":3},"message":"must be <= 3"}]"##,
        r#"data must be <= 3"#,
    );
}

#[test]
fn not() {
    check(
        r#"{"not":{"type":"number"}}"#,
        r#"5"#,
        r##"[{"instancePath":"","schemaPath":"#/not","keyword":"not","params":{},"message":"must NOT be valid"}]"##,
        r#"data must NOT be valid"#,
    );
}

#[test]
fn if_then() {
    check(
        r#"{"if":{"type":"number"},"then":{"minimum":10},"else":{"type":"string"}}"#,
        r#"5"#,
        r##"[{"instancePath":"","schemaPath":"#/then/minimum","keyword":"minimum","params":{"comparison":">=","limit":10},"message":"must be >= 10"},{"instancePath":"","schemaPath":"#/if","keyword":"if","params":{"failingKeyword":"then"},"message":"must match \"then\" schema"}]"##,
        r#"data must be >= 10, data must match "then" schema"#,
    );
}

#[test]
fn if_else() {
    check(
        r#"{"if":{"type":"number"},"then":{"minimum":10},"else":{"type":"string"}}"#,
        r#"true"#,
        r##"[{"instancePath":"","schemaPath":"#/else/type","keyword":"type","params":{"type":"string"},"message":"must be string"},{"instancePath":"","schemaPath":"#/if","keyword":"if","params":{"failingKeyword":"else"},"message":"must match \"else\" schema"}]"##,
        r#"data must be string, data must match "else" schema"#,
    );
}

#[test]
fn const_value() {
    check(
        r#"{"const":{"a":[1,2]}}"#,
        r#"{"a":[1,3]}"#,
        r##"[{"instancePath":"","schemaPath":"#/const","keyword":"const","params":{"allowedValue":{"a":[1,2]}},"message":"must be equal to constant"}]"##,
        r#"data must be equal to constant"#,
    );
}

#[test]
fn enum_objects() {
    check(r#"{"enum":[{"a":1},[1]]}"#, r#"{"a":1}"#, r#"[]"#, r#""#);
}

#[test]
fn ref_to_definitions() {
    check(
        r##"{"definitions":{"pos":{"type":"number","minimum":0}},"type":"object","properties":{"x":{"$ref":"#/definitions/pos"}}}"##,
        r#"{"x":-1}"#,
        r##"[{"instancePath":"/x","schemaPath":"#/definitions/pos/minimum","keyword":"minimum","params":{"comparison":">=","limit":0},"message":"must be >= 0"}]"##,
        r#"data/x must be >= 0"#,
    );
}

#[test]
fn patternproperties_and_additional() {
    check(
        r#"{"patternProperties":{"^n_":{"type":"number"}},"additionalProperties":{"type":"string"}}"#,
        r#"{"n_a":"x","other":1}"#,
        r##"[{"instancePath":"/other","schemaPath":"#/additionalProperties/type","keyword":"type","params":{"type":"string"},"message":"must be string"},{"instancePath":"/n_a","schemaPath":"#/patternProperties/%5En_/type","keyword":"type","params":{"type":"number"},"message":"must be number"}]"##,
        r#"data/other must be string, data/n_a must be number"#,
    );
}

#[test]
fn property_counts() {
    check(
        r#"{"minProperties":2,"maxProperties":3}"#,
        r#"{"a":1}"#,
        r##"[{"instancePath":"","schemaPath":"#/minProperties","keyword":"minProperties","params":{"limit":2},"message":"must NOT have fewer than 2 properties"}]"##,
        r#"data must NOT have fewer than 2 properties"#,
    );
}

#[test]
fn propertynames() {
    check(
        r#"{"propertyNames":{"maxLength":2}}"#,
        r#"{"abc":1,"ab":2}"#,
        r##"[{"instancePath":"","schemaPath":"#/propertyNames/maxLength","keyword":"maxLength","params":{"limit":2},"message":"must NOT have more than 2 characters","propertyName":"abc"},{"instancePath":"","schemaPath":"#/propertyNames","keyword":"propertyNames","params":{"propertyName":"abc"},"message":"property name must be valid"}]"##,
        r#"data must NOT have more than 2 characters, data property name must be valid"#,
    );
}

#[test]
fn dependencies() {
    check(
        r#"{"dependencies":{"a":["b","c"],"d":{"required":["e"]}}}"#,
        r#"{"a":1,"d":2,"c":1}"#,
        r##"[{"instancePath":"","schemaPath":"#/dependencies","keyword":"dependencies","params":{"property":"a","missingProperty":"b","depsCount":2,"deps":"b, c"},"message":"must have properties b, c when property a is present"},{"instancePath":"","schemaPath":"#/dependencies/d/required","keyword":"required","params":{"missingProperty":"e"},"message":"must have required property 'e'"}]"##,
        r#"data must have properties b, c when property a is present, data must have required property 'e'"#,
    );
}

#[test]
fn false_schema() {
    check(
        r#"{"properties":{"a":false}}"#,
        r#"{"a":1}"#,
        r##"[{"instancePath":"/a","schemaPath":"#/properties/a/false schema","keyword":"false schema","params":{},"message":"boolean schema is false"}]"##,
        r#"data/a boolean schema is false"#,
    );
}

#[test]
fn nested_path_escaping() {
    check(
        r#"{"properties":{"a/b":{"properties":{"c~d":{"type":"string"}}}}}"#,
        r#"{"a/b":{"c~d":1}}"#,
        r##"[{"instancePath":"/a~1b/c~0d","schemaPath":"#/properties/a~1b/properties/c~0d/type","keyword":"type","params":{"type":"string"},"message":"must be string"}]"##,
        r#"data/a~1b/c~0d must be string"#,
    );
}

#[test]
fn boolean_true() {
    check(r#"true"#, r#"1"#, r#"[]"#, r#""#);
}

#[test]
fn rejects_garbage_string() {
    assert_eq!(
        rejected(r#""garbage""#),
        r#"schema must be object or boolean"#
    );
}

#[test]
fn rejects_unknown_keyword() {
    assert_eq!(
        rejected(r#"{"foo":1}"#),
        r#"strict mode: unknown keyword: "foo""#
    );
}

#[test]
fn rejects_format() {
    assert_eq!(
        rejected(r#"{"type":"string","format":"email"}"#),
        r##"unknown format "email" ignored in schema at path "#""##
    );
}

#[test]
fn rejects_bad_type() {
    assert!(rejected(r#"{"type":"strin"}"#).starts_with("schema is invalid"));
}

#[test]
fn rejects_bad_ref() {
    assert_eq!(
        rejected(r##"{"$ref":"#/nope"}"##),
        r#"can't resolve reference #/nope from id #"#
    );
}
