//! Differential cases: every expected output below was produced by
//! mustache.js 4.2.0 (`Mustache.render(template, view)`) under Node.js.

use super::*;
use redoubt_core::value::{Object, from_json_str};

/// Parses a JSON view; the strings `"__NaN__"` and `"__undef__"` stand for
/// `NaN` and `undefined`, which JSON cannot carry.
fn view(json: &str) -> Value {
    fn fix(v: Value) -> Value {
        match v {
            Value::String(s) if &*s == "__NaN__" => Value::Number(f64::NAN),
            Value::String(s) if &*s == "__undef__" => Value::Undefined,
            Value::Object(o) => {
                let fixed = Object::new();
                for (k, x) in o.entries() {
                    fixed.insert(k, fix(x));
                }
                Value::Object(fixed)
            }
            Value::Array(a) => Value::from(a.to_vec().into_iter().map(fix).collect::<Vec<_>>()),
            other => other,
        }
    }
    fix(from_json_str(json).expect("view json"))
}

fn run(template: &str, json: &str) -> String {
    let t = parse(template).expect("template parses");
    render(&t, view(json), &Plain)
}

fn fails(template: &str) -> String {
    match parse(template) {
        Ok(_) => panic!("{template:?} parsed"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn plain_text() {
    assert_eq!(run("Hello world", "{}"), "Hello world");
}

#[test]
fn simple_name() {
    assert_eq!(run("Hello {{name}}!", "{\"name\":\"Joe\"}"), "Hello Joe!");
}

#[test]
fn escaped_html() {
    assert_eq!(
        run("{{x}}", "{\"x\":\"&<>\\\"'/`=\"}"),
        "&amp;&lt;&gt;&quot;&#39;&#x2F;&#x60;&#x3D;"
    );
}

#[test]
fn triple_mustache_is_raw() {
    assert_eq!(run("{{{x}}}", "{\"x\":\"&<>\\\"'/`=\"}"), "&<>\"'/`=");
}

#[test]
fn ampersand_is_raw() {
    assert_eq!(run("{{& x}}", "{\"x\":\"<b>\"}"), "<b>");
}

#[test]
fn missing_name_renders_nothing() {
    assert_eq!(run("[{{nope}}]", "{}"), "[]");
}

#[test]
fn null_renders_nothing() {
    assert_eq!(run("[{{n}}]", "{\"n\":null}"), "[]");
}

#[test]
fn number() {
    assert_eq!(
        run(
            "{{n}} {{f}} {{big}} {{neg}}",
            "{\"n\":1500,\"f\":0.1,\"big\":1e+21,\"neg\":-2.5}"
        ),
        "1500 0.1 1e+21 -2.5"
    );
}

#[test]
fn booleans() {
    assert_eq!(run("{{t}} {{f}}", "{\"t\":true,\"f\":false}"), "true false");
}

#[test]
fn zero() {
    assert_eq!(run("{{z}}", "{\"z\":0}"), "0");
}

#[test]
fn object_renders_as_object_object() {
    assert_eq!(run("{{o}}", "{\"o\":{\"a\":1}}"), "[object Object]");
}

#[test]
fn array_renders_joined() {
    assert_eq!(run("{{a}}", "{\"a\":[1,\"b\",null,[2,3]]}"), "1,b,,2,3");
}

#[test]
fn dotted_names() {
    assert_eq!(run("{{a.b.c}}", "{\"a\":{\"b\":{\"c\":\"deep\"}}}"), "deep");
}

#[test]
fn dotted_missing() {
    assert_eq!(run("[{{a.x.c}}]", "{\"a\":{\"b\":1}}"), "[]");
}

#[test]
fn array_length() {
    assert_eq!(run("{{a.length}}", "{\"a\":[1,2,3]}"), "3");
}

#[test]
fn string_length() {
    assert_eq!(run("{{s.length}}", "{\"s\":\"hello\"}"), "5");
}

#[test]
fn array_index() {
    assert_eq!(run("{{a.1}}", "{\"a\":[\"x\",\"y\"]}"), "y");
}

#[test]
fn whitespace_inside_tags() {
    assert_eq!(
        run("{{ name }}|{{{ name }}}|{{& name }}", "{\"name\":\"<n>\"}"),
        "&lt;n&gt;|<n>|<n>"
    );
}

#[test]
fn section_with_true() {
    assert_eq!(
        run("{{#t}}yes{{/t}}{{#f}}no{{/f}}", "{\"t\":true,\"f\":false}"),
        "yes"
    );
}

#[test]
fn section_over_list() {
    assert_eq!(run("{{#l}}<{{.}}>{{/l}}", "{\"l\":[1,2,3]}"), "<1><2><3>");
}

#[test]
fn section_over_objects() {
    assert_eq!(
        run(
            "{{#l}}{{n}},{{/l}}",
            "{\"l\":[{\"n\":\"a\"},{\"n\":\"b\"}]}"
        ),
        "a,b,"
    );
}

#[test]
fn section_over_object() {
    assert_eq!(run("{{#o}}{{k}}{{/o}}", "{\"o\":{\"k\":\"v\"}}"), "v");
}

#[test]
fn section_over_string_pushes_it() {
    assert_eq!(run("{{#s}}[{{.}}]{{/s}}", "{\"s\":\"str\"}"), "[str]");
}

#[test]
fn section_over_number_pushes_it() {
    assert_eq!(run("{{#n}}[{{.}}]{{/n}}", "{\"n\":42}"), "[42]");
}

#[test]
fn empty_list_renders_nothing() {
    assert_eq!(run("[{{#l}}x{{/l}}]", "{\"l\":[]}"), "[]");
}

#[test]
fn falsy_values_skip_sections() {
    assert_eq!(
        run(
            "{{#a}}a{{/a}}{{#b}}b{{/b}}{{#c}}c{{/c}}{{#d}}d{{/d}}{{#e}}e{{/e}}",
            "{\"a\":0,\"b\":\"\",\"c\":null,\"d\":false}"
        ),
        ""
    );
}

#[test]
fn inverted_sections() {
    assert_eq!(
        run(
            "{{^a}}A{{/a}}{{^b}}B{{/b}}{{^c}}C{{/c}}{{^d}}D{{/d}}{{^e}}E{{/e}}",
            "{\"a\":0,\"b\":[],\"c\":[1],\"d\":\"x\",\"e\":true}"
        ),
        "AB"
    );
}

#[test]
fn context_stack_reaches_parent() {
    assert_eq!(
        run(
            "{{#items}}{{name}}-{{topic}};{{/items}}",
            "{\"topic\":\"T\",\"items\":[{\"name\":\"a\"},{\"name\":\"b\",\"topic\":\"own\"}]}"
        ),
        "a-T;b-own;"
    );
}

#[test]
fn nested_sections() {
    assert_eq!(
        run(
            "{{#a}}{{#b}}{{c}}{{x}}{{/b}}{{/a}}",
            "{\"x\":\"X\",\"a\":{\"b\":[{\"c\":1},{\"c\":2}]}}"
        ),
        "1X2X"
    );
}

#[test]
fn dot_in_nested_list() {
    assert_eq!(
        run("{{#l}}{{#.}}{{.}}{{/.}};{{/l}}", "{\"l\":[[1,2],[3]]}"),
        "12;3;"
    );
}

#[test]
fn dotted_name_in_section() {
    assert_eq!(
        run("{{#a.b}}{{c}}{{/a.b}}", "{\"a\":{\"b\":{\"c\":\"in\"}}}"),
        "in"
    );
}

#[test]
fn dotted_name_falls_back_to_parent() {
    assert_eq!(
        run(
            "{{#a}}{{x.y}}{{/a}}",
            "{\"a\":{\"z\":1},\"x\":{\"y\":\"outer\"}}"
        ),
        "outer"
    );
}

#[test]
fn dotted_name_is_not_searched_further_once_head_found() {
    assert_eq!(
        run(
            "{{#a}}{{x.y}}{{/a}}",
            "{\"a\":{\"x\":{}},\"x\":{\"y\":\"outer\"}}"
        ),
        "outer"
    );
}

#[test]
fn comments_vanish() {
    assert_eq!(run("a{{! a comment }}b", "{}"), "ab");
}

#[test]
fn standalone_comment_line() {
    assert_eq!(run("a\n  {{! comment }}  \nb", "{}"), "a\nb");
}

#[test]
fn standalone_section_lines() {
    assert_eq!(
        run("begin\n{{#s}}\n  inside\n{{/s}}\nend", "{\"s\":true}"),
        "begin\n  inside\nend"
    );
}

#[test]
fn standalone_with_crlf() {
    assert_eq!(
        run("begin\r\n{{#s}}\r\ninside\r\n{{/s}}\r\nend", "{\"s\":true}"),
        "begin\r\ninside\r\nend"
    );
}

#[test]
fn standalone_indented() {
    assert_eq!(run("  {{#s}}\n  x\n  {{/s}}\n", "{\"s\":true}"), "  x\n");
}

#[test]
fn name_tag_is_not_standalone() {
    assert_eq!(run("  {{x}}  \n", "{\"x\":\"v\"}"), "  v  \n");
}

#[test]
fn standalone_last_line_without_newline() {
    assert_eq!(run("a\n  {{#s}}{{/s}}  ", "{\"s\":true}"), "a\n");
}

#[test]
fn standalone_inverted() {
    assert_eq!(run("a\n{{^s}}\nb\n{{/s}}\nc", "{\"s\":false}"), "a\nb\nc");
}

#[test]
fn two_tags_on_a_standalone_line() {
    assert_eq!(run("a\n{{#s}}{{/s}}\nb", "{\"s\":true}"), "a\nb");
}

#[test]
fn text_and_section_on_a_line() {
    assert_eq!(run("a {{#s}}\nb{{/s}}", "{\"s\":true}"), "a \nb");
}

#[test]
fn delimiter_change() {
    assert_eq!(run("{{=<% %>=}}<% x %> {{x}}", "{\"x\":\"v\"}"), "v {{x}}");
}

#[test]
fn delimiter_change_and_back() {
    assert_eq!(
        run("{{=<% %>=}}<%x%><%={{ }}=%>{{x}}", "{\"x\":\"v\"}"),
        "vv"
    );
}

#[test]
fn delimiter_with_spaces() {
    assert_eq!(run("{{= | | =}}|x|", "{\"x\":\"v\"}"), "v");
}

#[test]
fn standalone_delimiter_line() {
    assert_eq!(run("a\n{{=<% %>=}}\n<%x%>", "{\"x\":\"v\"}"), "a\nv");
}

#[test]
fn triple_with_custom_delimiters() {
    assert_eq!(run("{{=<% %>=}}<%{x}%>", "{\"x\":\"<>\"}"), "<>");
}

#[test]
fn sections_with_custom_delimiters() {
    assert_eq!(run("{{=[ ]=}}[#l][.][/l]", "{\"l\":[1,2]}"), "12");
}

#[test]
fn partial_renders_nothing() {
    assert_eq!(run("a{{>p}}b", "{}"), "ab");
}

#[test]
fn standalone_partial_line() {
    assert_eq!(run("a\n  {{>p}}\nb", "{}"), "a\nb");
}

#[test]
fn unicode_text() {
    assert_eq!(run("héllo {{x}} ✓", "{\"x\":\"wörld\"}"), "héllo wörld ✓");
}

#[test]
fn surrogate_pairs() {
    assert_eq!(run("😀{{x}}😀", "{\"x\":\"𝄞\"}"), "😀𝄞😀");
}

#[test]
fn nested_arrays_in_string() {
    assert_eq!(
        run("{{a}}", "{\"a\":[[1,[2]],[],{}]}"),
        "1,2,,[object Object]"
    );
}

#[test]
fn dotted_through_string_index() {
    assert_eq!(run("{{s.0}}", "{\"s\":\"abc\"}"), "a");
}

#[test]
fn section_over_empty_string_inverted() {
    assert_eq!(run("{{^s}}empty{{/s}}", "{\"s\":\"\"}"), "empty");
}

#[test]
fn nan_is_falsy() {
    assert_eq!(
        run("{{#n}}x{{/n}}{{^n}}y{{/n}}", "{\"n\":\"__NaN__\"}"),
        "y"
    );
}

#[test]
fn tab_indentation_standalone() {
    assert_eq!(run("\t{{#s}}\nx\n\t{{/s}}\n", "{\"s\":true}"), "x\n");
}

#[test]
fn whitespace_only_template() {
    assert_eq!(run("  \n  ", "{}"), "  \n  ");
}

#[test]
fn empty_template() {
    assert_eq!(run("", "{}"), "");
}

#[test]
fn lone_braces() {
    assert_eq!(run("{ } {x} }}", "{}"), "{ } {x} }}");
}

#[test]
fn unicode_whitespace_standalone() {
    assert_eq!(run("\u{a0}{{#s}}\u{a0}\nx\n{{/s}}", "{\"s\":true}"), "x\n");
}

#[test]
fn escaped_name_with_number_zero() {
    assert_eq!(run("{{a.b}}", "{\"a\":{\"b\":0}}"), "0");
}

#[test]
fn undefined_value_in_present_key_falls_back() {
    assert_eq!(
        run(
            "{{#o}}{{k}}{{/o}}",
            "{\"k\":\"outer\",\"o\":{\"k\":\"__undef__\"}}"
        ),
        ""
    );
}

#[test]
fn buffer_like_arrays_in_sections() {
    assert_eq!(run("{{#l}}{{length}}{{/l}}", "{\"l\":[[1,2],[3]]}"), "21");
}

#[test]
fn error_unclosed_tag() {
    assert_eq!(fails("payload={{payload"), "Unclosed tag at 17");
}

#[test]
fn error_unclosed_section() {
    assert_eq!(fails("{{#a}}x"), "Unclosed section \"a\" at 7");
}

#[test]
fn error_unopened_section() {
    assert_eq!(fails("x{{/a}}"), "Unopened section \"a\" at 1");
}

#[test]
fn error_mismatched_section() {
    assert_eq!(fails("{{#a}}{{/b}}"), "Unclosed section \"a\" at 6");
}

#[test]
fn error_unclosed_triple() {
    assert_eq!(fails("{{{x}}"), "Unclosed tag at 6");
}

#[test]
fn error_invalid_tags() {
    assert_eq!(fails("{{=<%=}}"), "Invalid tags: <%");
}

#[test]
fn error_unclosed_after_delimiter_change() {
    assert_eq!(fails("{{=<% %>=}}<%x"), "Unclosed tag at 14");
}

#[test]
fn error_positions_count_utf16() {
    assert_eq!(fails("😀😀{{#a}}"), "Unclosed section \"a\" at 10");
}

#[test]
fn dotted_through_a_number() {
    assert_eq!(run("[{{a.b}}]", "{\"a\":5}"), "[]");
}

#[test]
fn names_with_inner_spaces() {
    assert_eq!(run("{{a b}}", "{\"a b\":\"sp\"}"), "sp");
}

#[test]
fn spaces_around_the_type_character() {
    assert_eq!(run("{{ # a }}x{{ / a }}", "{\"a\":true}"), "x");
}

#[test]
fn multi_line_comment_standalone() {
    assert_eq!(run("a\n{{! one\n two }}\nb", "{}"), "a\nb");
}

#[test]
fn nested_same_name_sections() {
    assert_eq!(
        run(
            "{{#a}}{{#a}}{{b}}{{/a}}{{/a}}",
            "{\"a\":{\"a\":{\"b\":\"in\"},\"b\":\"out\"}}"
        ),
        "in"
    );
}

#[test]
fn dot_at_top_level() {
    assert_eq!(run("{{.}}", "{\"x\":1}"), "[object Object]");
}

#[test]
fn triple_dot() {
    assert_eq!(run("{{{.}}}", "\"<s>\""), "<s>");
}

#[test]
fn inverted_over_empty_object() {
    assert_eq!(run("{{^o}}none{{/o}}", "{\"o\":{}}"), "");
}

#[test]
fn extra_closing_brace() {
    assert_eq!(run("{{a}}}", "{\"a\":\"v\"}"), "v}");
}

#[test]
fn section_value_object_with_inner_reference_to_outer_list() {
    assert_eq!(
        run(
            "{{#l}}{{#o}}{{n}}{{/o}}{{/l}}",
            "{\"n\":\"top\",\"l\":[{\"o\":{}},{\"o\":{\"n\":\"own\"}}]}"
        ),
        "topown"
    );
}

#[test]
fn inverted_section_then_normal_on_one_line() {
    assert_eq!(
        run("{{^a}}A{{/a}} {{#b}}B{{/b}}\n", "{\"a\":false,\"b\":true}"),
        "A B\n"
    );
}

#[test]
fn section_containing_standalone_lines() {
    assert_eq!(
        run(
            "<ul>\n  {{#items}}\n  <li>{{.}}</li>\n  {{/items}}\n</ul>\n",
            "{\"items\":[\"a\",\"b\"]}"
        ),
        "<ul>\n  <li>a</li>\n  <li>b</li>\n</ul>\n"
    );
}

#[test]
fn array_index_inside_section() {
    assert_eq!(
        run(
            "{{#l}}{{0}}-{{1}};{{/l}}",
            "{\"l\":[[\"a\",\"b\"],[\"c\",\"d\"]]}"
        ),
        "a-b;c-d;"
    );
}

#[test]
fn length_of_a_pushed_string() {
    assert_eq!(run("{{#s}}{{length}}{{/s}}", "{\"s\":\"abcd\"}"), "");
}

#[test]
fn escaped_quote_and_ampersand_in_attribute() {
    assert_eq!(
        run("<a title=\"{{t}}\">", "{\"t\":\"a\\\"b&c\"}"),
        "<a title=\"a&quot;b&amp;c\">"
    );
}

#[test]
fn number_zero_via_triple() {
    assert_eq!(run("{{{z}}}", "{\"z\":0}"), "0");
}

#[test]
fn boolean_false_inverted_with_text() {
    assert_eq!(run("{{^f}}not {{/f}}done", "{\"f\":false}"), "not done");
}

#[test]
fn dot_in_section_over_booleans_keeps_context() {
    assert_eq!(run("{{#t}}{{.}}{{/t}}", "{\"t\":true}"), "[object Object]");
}

#[test]
fn delimiters_with_regex_characters() {
    assert_eq!(
        run("{{=( )=}}(x) {{=| |=}}|x|", "{\"x\":\"v\"}"),
        "v {{=| |=}}|x|"
    );
}

#[test]
fn newline_only_line_after_standalone() {
    assert_eq!(run("{{#a}}\n\n{{/a}}", "{\"a\":true}"), "\n");
}

#[test]
fn error_unclosed_at_the_very_end() {
    assert_eq!(fails("abc {{"), "Unclosed tag at 6");
}

#[test]
fn error_unclosed_section_nested() {
    assert_eq!(fails("{{#a}}{{#b}}{{/a}}"), "Unclosed section \"b\" at 12");
}

#[test]
fn error_empty_delimiter_spec() {
    assert_eq!(fails("{{==}}"), "Invalid tags: ");
}
