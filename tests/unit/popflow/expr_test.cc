#include "popflow/expr.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace omnibridge::popflow {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

class PopflowExprTest : public ::testing::Test {
 protected:
  PopflowExprTest() {
    roots_ = json::parse(R"({
      "interaction": {"interactionId": "i-1", "ani": "+1 (415) 555-0100", "queue": "vip",
                      "channel": "voice", "callerName": "Ada Lovelace",
                      "data": {"priority": "5", "customer-id": "C42", "tags": ["gold", "vip"]}},
      "agent": {"id": "1001", "state": "ready"},
      "vars": {"count": 3, "name": "  Bob  ", "list": [1, 2, 3], "empty": ""},
      "nodes": {"search": {"count": 1, "ids": ["003A"]}},
      "trigger": {"event": "interaction.offered", "source": "cti"},
      "flow": {"name": "f", "version": 2}
    })")
                 .as_object();
    scope_.roots = &roots_;
    scope_.now = absl::FromUnixSeconds(1'790'000'000);
  }

  json::value Eval(std::string_view text) {
    Expression e;
    ExprError err;
    EXPECT_TRUE(ParseExpression(text, limits_, &e, &err)) << text << ": " << err.message;
    json::value out;
    EXPECT_TRUE(e.Evaluate(scope_, limits_, &out, &err))
        << text << ": column " << err.column << ": " << err.message;
    return out;
  }

  ExprError ParseError(std::string_view text) {
    Expression e;
    ExprError err;
    EXPECT_FALSE(ParseExpression(text, limits_, &e, &err)) << text;
    return err;
  }

  ExprError EvalError(std::string_view text) {
    Expression e;
    ExprError err;
    EXPECT_TRUE(ParseExpression(text, limits_, &e, &err)) << text << ": " << err.message;
    json::value out;
    EXPECT_FALSE(e.Evaluate(scope_, limits_, &out, &err)) << text << " gave " << out;
    return err;
  }

  std::string Render(std::string_view text, bool encode = false) {
    Template t;
    ExprError err;
    EXPECT_TRUE(ParseTemplate(text, limits_, &t, &err)) << text << ": " << err.message;
    std::string out;
    EXPECT_TRUE(t.Render(scope_, limits_, encode, &out, &err)) << err.message;
    return out;
  }

  json::object roots_;
  Scope scope_;
  ExprLimits limits_;
};

TEST_F(PopflowExprTest, LiteralsAndArithmetic) {
  EXPECT_EQ(Eval("1 + 2 * 3"), json::value(7));
  EXPECT_EQ(Eval("(1 + 2) * 3"), json::value(9));
  EXPECT_EQ(Eval("10 % 4"), json::value(2));
  EXPECT_EQ(Eval("-vars.count"), json::value(-3));
  EXPECT_EQ(Eval("'a' + \"b\""), json::value("ab"));
  EXPECT_EQ(Eval("'it\\'s'"), json::value("it's"));
  EXPECT_EQ(Eval("true"), json::value(true));
  EXPECT_EQ(Eval("null"), json::value(nullptr));
  EXPECT_EQ(Eval("1.5e2"), json::value(150));
}

TEST_F(PopflowExprTest, PathsAndMissingValues) {
  EXPECT_EQ(Eval("interaction.queue"), json::value("vip"));
  EXPECT_EQ(Eval("interaction.data['customer-id']"), json::value("C42"));
  EXPECT_EQ(Eval("interaction.data.tags[1]"), json::value("vip"));
  EXPECT_EQ(Eval("interaction.data.tags[-1]"), json::value("vip"));
  EXPECT_EQ(Eval("nodes.search.ids[0]"), json::value("003A"));
  EXPECT_EQ(Eval("vars.nothing"), json::value(nullptr));
  EXPECT_EQ(Eval("vars.nothing.deeper.still"), json::value(nullptr));
  EXPECT_EQ(Eval("interaction.data.tags[7]"), json::value(nullptr));
  EXPECT_EQ(Eval("flow.version"), json::value(2));
}

TEST_F(PopflowExprTest, ComparisonsAndLogic) {
  EXPECT_EQ(Eval("interaction.queue == 'vip'"), json::value(true));
  EXPECT_EQ(Eval("interaction.queue != 'vip'"), json::value(false));
  EXPECT_EQ(Eval("vars.count >= 3 and vars.count < 4"), json::value(true));
  EXPECT_EQ(Eval("vars.count > 3 or interaction.channel == 'voice'"), json::value(true));
  EXPECT_EQ(Eval("not (vars.count == 3)"), json::value(false));
  EXPECT_EQ(Eval("!vars.empty && true"), json::value(true));
  EXPECT_EQ(Eval("'abc' < 'abd'"), json::value(true));
  EXPECT_EQ(Eval("vars.count == 3.0"), json::value(true));
  // Strict: text "5" is not the number 5; number() converts.
  EXPECT_EQ(Eval("interaction.data.priority == 5"), json::value(false));
  EXPECT_EQ(Eval("number(interaction.data.priority) == 5"), json::value(true));
  EXPECT_EQ(Eval("vars.list == vars.list"), json::value(true));
}

TEST_F(PopflowExprTest, ShortCircuitSkipsErrors) {
  // The right side would fail (comparing text with a number) but is never evaluated.
  EXPECT_EQ(Eval("false and ('a' < 1)"), json::value(false));
  EXPECT_EQ(Eval("true or ('a' < 1)"), json::value(true));
  EXPECT_EQ(Eval("if(vars.count > 1, 'many', 'a' < 1)"), json::value("many"));
}

TEST_F(PopflowExprTest, StringFunctions) {
  EXPECT_EQ(Eval("lower(interaction.callerName)"), json::value("ada lovelace"));
  EXPECT_EQ(Eval("upper('x')"), json::value("X"));
  EXPECT_EQ(Eval("trim(vars.name)"), json::value("Bob"));
  EXPECT_EQ(Eval("length('héllo')"), json::value(5));
  EXPECT_EQ(Eval("length(vars.list)"), json::value(3));
  EXPECT_EQ(Eval("contains(interaction.callerName, 'Love')"), json::value(true));
  EXPECT_EQ(Eval("contains(interaction.data.tags, 'gold')"), json::value(true));
  EXPECT_EQ(Eval("startsWith(interaction.ani, '+1')"), json::value(true));
  EXPECT_EQ(Eval("endsWith(interaction.ani, '0100')"), json::value(true));
  EXPECT_EQ(Eval("replace('a-b-c', '-', '+')"), json::value("a+b+c"));
  EXPECT_EQ(Eval("slice('héllo', 1, 3)"), json::value("él"));
  EXPECT_EQ(Eval("slice('hello', -3)"), json::value("llo"));
  EXPECT_EQ(Eval("slice(vars.list, 1)"), json::parse("[2,3]"));
  EXPECT_EQ(Eval("concat('a', 1, true, null)"), json::value("a1true"));
  EXPECT_EQ(Eval("digits(interaction.ani)"), json::value("14155550100"));
  EXPECT_EQ(Eval("join(interaction.data.tags, '/')"), json::value("gold/vip"));
  EXPECT_EQ(Eval("split('a,b,c', ',')"), json::parse(R"(["a","b","c"])"));
  EXPECT_EQ(Eval("urlEncode('a b&c')"), json::value("a%20b%26c"));
  EXPECT_EQ(Eval("indexOf('hello', 'l')"), json::value(2));
  EXPECT_EQ(Eval("padStart('7', 3, '0')"), json::value("007"));
  EXPECT_EQ(Eval("coalesce(vars.nothing, vars.empty, 'x')"), json::value("x"));
  EXPECT_EQ(Eval("isEmpty(vars.empty)"), json::value(true));
  EXPECT_EQ(Eval("isEmpty(0)"), json::value(false));
  EXPECT_EQ(Eval("exists(vars.count)"), json::value(true));
  EXPECT_EQ(Eval("string(12)"), json::value("12"));
  EXPECT_EQ(Eval("number('x')"), json::value(nullptr));
}

TEST_F(PopflowExprTest, NumberFunctions) {
  EXPECT_EQ(Eval("round(2.345, 2)"), json::value(2.35));
  EXPECT_EQ(Eval("floor(2.7)"), json::value(2));
  EXPECT_EQ(Eval("ceil(2.1)"), json::value(3));
  EXPECT_EQ(Eval("abs(-2)"), json::value(2));
  EXPECT_EQ(Eval("min(3, 1, 2)"), json::value(1));
  EXPECT_EQ(Eval("max(3, 1, 2)"), json::value(3));
}

TEST_F(PopflowExprTest, E164) {
  EXPECT_EQ(ToE164("+1 (415) 555-0100", ""), "+14155550100");
  EXPECT_EQ(ToE164("0044 20 7946 0000", ""), "+442079460000");
  EXPECT_EQ(ToE164("020 7946 0000", "44"), "+442079460000");
  EXPECT_EQ(ToE164("(415) 555-0100", "+1"), "+14155550100");
  EXPECT_EQ(ToE164("1-415-555-0100", "1"), "+14155550100");
  EXPECT_EQ(ToE164("sip:+33142685300@pbx.example", ""), "+33142685300");
  EXPECT_EQ(ToE164("4155550100", ""), "");  // national number, no country: unknown
  EXPECT_EQ(ToE164("anonymous", "1"), "");
  EXPECT_EQ(ToE164("123", "1"), "");
  EXPECT_EQ(ToE164("+1234567890123456", ""), "");
  EXPECT_EQ(Eval("e164(interaction.ani)"), json::value("+14155550100"));
}

TEST_F(PopflowExprTest, Dates) {
  EXPECT_EQ(Eval("formatDate('2026-11-25T21:00:00Z', '%d/%m/%Y %H:%M')"),
            json::value("25/11/2026 21:00"));
  EXPECT_EQ(Eval("formatDate('2026-11-25T21:00:00+01:00', '%H:%M')"), json::value("20:00"));
  EXPECT_EQ(Eval("formatDate('2026-11-25T21:00:00Z', '%H:%M', '+02:00')"), json::value("23:00"));
  EXPECT_EQ(Eval("formatDate(0)"), json::value("1970-01-01T00:00:00Z"));
  EXPECT_EQ(Eval("formatDate('2026-11-25', '%Y')"), json::value("2026"));
  EXPECT_EQ(Eval("now()"), json::value("2026-09-21T14:13:20.000Z"));
  EXPECT_THAT(EvalError("formatDate('yesterday')").message, HasSubstr("ISO 8601"));
  EXPECT_THAT(EvalError("formatDate(0, '%H', 'Europe/Paris')").message, HasSubstr("offset"));
}

TEST_F(PopflowExprTest, ParseErrorsCarryColumns) {
  ExprError e = ParseError("interaction.queue = 'vip'");
  EXPECT_EQ(e.column, 19);
  EXPECT_THAT(e.message, HasSubstr("=="));
  e = ParseError("lowr(interaction.ani)");
  EXPECT_EQ(e.column, 1);
  EXPECT_THAT(e.message, HasSubstr("unknown function 'lowr'"));
  e = ParseError("vip == interaction.queue");
  EXPECT_EQ(e.column, 1);
  EXPECT_THAT(e.message, HasSubstr("unknown name 'vip'"));
  e = ParseError("(1 + 2");
  EXPECT_EQ(e.column, 7);
  EXPECT_THAT(e.message, HasSubstr("')'"));
  e = ParseError("'unterminated");
  EXPECT_EQ(e.column, 1);
  e = ParseError("lower('a', 'b')");
  EXPECT_THAT(e.message, HasSubstr("takes 1 argument"));
  e = ParseError("1 < 2 < 3");
  EXPECT_THAT(e.message, HasSubstr("chained"));
  e = ParseError("'é' + #");
  EXPECT_EQ(e.column, 7);  // columns count characters, not bytes
  e = ParseError("");
  EXPECT_THAT(e.message, HasSubstr("empty"));
  e = ParseError("1 2");
  EXPECT_EQ(e.column, 3);
}

TEST_F(PopflowExprTest, EvalErrorsCarryColumns) {
  ExprError e = EvalError("vars.count + 'x'");
  EXPECT_EQ(e.column, 12);
  EXPECT_THAT(e.message, HasSubstr("concat()"));
  e = EvalError("1 / (vars.count - 3)");
  EXPECT_EQ(e.column, 3);
  EXPECT_THAT(e.message, HasSubstr("division by zero"));
  e = EvalError("'a' < 1");
  EXPECT_THAT(e.message, HasSubstr("cannot compare"));
  e = EvalError("join('x', ',')");
  EXPECT_THAT(e.message, HasSubstr("must be a list"));
}

TEST_F(PopflowExprTest, Limits) {
  std::string deep(40, '(');
  deep += "1";
  deep += std::string(40, ')');
  EXPECT_THAT(ParseError(deep).message, HasSubstr("nested deeper"));
  std::string chain = "1";
  for (int i = 0; i < 300; ++i)
    chain += "+1";
  EXPECT_THAT(ParseError(chain).message, HasSubstr("nested deeper"));
  std::string nots(100, '!');
  nots += "true";
  EXPECT_THAT(ParseError(nots).message, HasSubstr("nested deeper"));
  std::string long_text(5000, ' ');
  long_text += "1";
  EXPECT_THAT(ParseError(long_text).message, HasSubstr("longer than"));

  // Values cannot grow past max_string, however they are built.
  limits_.max_string = 100;
  roots_["vars"].as_object()["big"] = std::string(60, 'x');
  EXPECT_THAT(EvalError("concat(vars.big, vars.big)").message, HasSubstr("longer than"));
  EXPECT_THAT(EvalError("vars.big + vars.big").message, HasSubstr("longer than"));
  EXPECT_THAT(EvalError("replace(vars.big, 'x', 'yy')").message, HasSubstr("longer than"));
  // Literal text that pushes a template over the limit is blamed at its own column.
  Template big;
  ExprError terr;
  ASSERT_TRUE(ParseTemplate("{{vars.big}}ab" + std::string(50, 'x'), limits_, &big, &terr));
  std::string rendered;
  EXPECT_FALSE(big.Render(scope_, limits_, false, &rendered, &terr));
  EXPECT_EQ(terr.column, 13);
  limits_.max_list = 3;
  EXPECT_THAT(EvalError("split('a,b,c,d', ',')").message, HasSubstr("more than 3"));
}

TEST_F(PopflowExprTest, Templates) {
  EXPECT_EQ(Render("Call from {{interaction.callerName}} ({{ e164(interaction.ani) }})"),
            "Call from Ada Lovelace (+14155550100)");
  EXPECT_EQ(Render("{{vars.count}} items, {{vars.nothing}}!"), "3 items, !");
  EXPECT_EQ(Render("plain text"), "plain text");
  EXPECT_EQ(Render("{{interaction.data.tags}}"), R"(["gold","vip"])");
  EXPECT_EQ(Render("{{ 2.5 * 2 }}"), "5");
  EXPECT_EQ(Render("{{ 1 / 4 }}"), "0.25");
  EXPECT_EQ(Render("q={{interaction.callerName}}&x=1", /*encode=*/true), "q=Ada%20Lovelace&x=1");

  Template t;
  ExprError err;
  EXPECT_FALSE(ParseTemplate("Hello {{ interaction.ani", limits_, &t, &err));
  EXPECT_EQ(err.column, 7);
  EXPECT_FALSE(ParseTemplate("Hi {{ lower( }}", limits_, &t, &err));
  EXPECT_EQ(err.column, 14);  // the column is in the whole template, not the {{ }} part
}

TEST_F(PopflowExprTest, TemplateValueKeepsTypes) {
  Template t;
  ExprError err;
  ASSERT_TRUE(ParseTemplate("{{vars.list}}", limits_, &t, &err));
  json::value v;
  ASSERT_TRUE(t.RenderValue(scope_, limits_, &v, &err));
  EXPECT_EQ(v, json::parse("[1,2,3]"));
  ASSERT_TRUE(ParseTemplate("n={{vars.count}}", limits_, &t, &err));
  ASSERT_TRUE(t.RenderValue(scope_, limits_, &v, &err));
  EXPECT_EQ(v, json::value("n=3"));
}

}  // namespace
}  // namespace omnibridge::popflow
