#include "routing/webhook.h"

#include "absl/strings/str_cat.h"
#include "boost/json/parse.hpp"
#include "gtest/gtest.h"

namespace omnibridge::routing {
namespace {

constexpr char kSecret[] = "0123456789abcdef-secret";

Source MakeSource(SourceKind kind = SourceKind::kGeneric, AuthMode auth = AuthMode::kSignature) {
  Source s;
  s.name = "crm";
  s.kind = kind;
  s.auth = auth;
  s.secret = kSecret;
  s.queue = "digital";
  return s;
}

std::string Sign(int64_t t, std::string_view body, std::string_view secret = kSecret) {
  return absl::StrCat(
      "t=", t, ",v1=",
      HmacSha256Hex(secret, absl::StrCat(t, ".", absl::string_view(body.data(), body.size()))));
}

TEST(Authenticator, AcceptsAValidSignatureOnceAndRefusesTheReplay) {
  Authenticator auth;
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  const std::string body = R"({"id":"1","channel":"chat"})";
  const std::string sig = Sign(1'800'000'000, body);
  EXPECT_TRUE(auth.Verify(MakeSource(), sig, "", body, now).ok());
  absl::Status replay = auth.Verify(MakeSource(), sig, "", body, now + absl::Seconds(1));
  EXPECT_TRUE(absl::IsUnauthenticated(replay));
  EXPECT_NE(replay.message().find("replayed"), absl::string_view::npos);
}

TEST(Authenticator, RefusesWrongSignatureStaleTimestampAndMalformedHeaders) {
  Authenticator auth;
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  const std::string body = R"({"id":"1","channel":"chat"})";
  auto message = [&](std::string_view header) {
    absl::Status s = auth.Verify(MakeSource(), header, "", body, now);
    EXPECT_TRUE(absl::IsUnauthenticated(s)) << header;
    return std::string(s.message());
  };
  EXPECT_NE(message(Sign(1'800'000'000, body, "another-secret-value")).find("does not match"),
            std::string::npos);
  EXPECT_NE(message(Sign(1'800'000'000 - 301, body)).find("5-minute"), std::string::npos);
  EXPECT_NE(message(Sign(1'800'000'000 + 301, body)).find("5-minute"), std::string::npos);
  EXPECT_NE(message("").find("missing"), std::string::npos);
  EXPECT_NE(message("v1=abc").find("malformed"), std::string::npos);
  EXPECT_NE(message("t=12x,v1=00").find("malformed"), std::string::npos);
  // A body changed after signing.
  EXPECT_NE(message(Sign(1'800'000'000, R"({"id":"2","channel":"chat"})")).find("does not match"),
            std::string::npos);
  // Within the tolerance, and a second valid key (rotation) in the same header.
  EXPECT_TRUE(
      auth.Verify(MakeSource(),
                  absl::StrCat("t=1799999800,v1=00ff,", Sign(1'799'999'800, body).substr(13)), "",
                  body, now)
          .ok());
}

TEST(Authenticator, BearerSources) {
  Authenticator auth;
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  Source s = MakeSource(SourceKind::kZendesk, AuthMode::kBearer);
  EXPECT_TRUE(auth.Verify(s, "", absl::StrCat("Bearer ", kSecret), "{}", now).ok());
  EXPECT_TRUE(auth.Verify(s, "", absl::StrCat("bearer  ", kSecret), "{}", now).ok());
  EXPECT_TRUE(absl::IsUnauthenticated(auth.Verify(s, "", "Bearer nope", "{}", now)));
  EXPECT_TRUE(absl::IsUnauthenticated(auth.Verify(s, Sign(1'800'000'000, "{}"), "", "{}", now)));
}

TEST(Authenticator, ForgetsSignaturesAfterTheWindowAndStaysBounded) {
  Authenticator auth(/*max_remembered=*/2);
  absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  for (int i = 0; i < 2; ++i) {
    const std::string body = absl::StrCat(R"({"id":")", i, R"("})");
    ASSERT_TRUE(auth.Verify(MakeSource(), Sign(1'800'000'000, body), "", body, now).ok());
  }
  EXPECT_TRUE(absl::IsResourceExhausted(
      auth.Verify(MakeSource(), Sign(1'800'000'000, "{}"), "", "{}", now)));
  now += absl::Minutes(6);
  EXPECT_TRUE(auth.Verify(MakeSource(), Sign(1'800'000'000 + 360, "{}"), "", "{}", now).ok());
  EXPECT_EQ(auth.remembered(), 1u);
}

TEST(Payload, GenericBody) {
  auto in = ParsePayload(SourceKind::kGeneric, R"({"id":"chat-42","channel":"chat",
      "subject":"Order, #1234\r\narrived","customer":{"name":"Dana","address":"dana@example.com"},
      "url":"https://crm.example.test/case/42?a=1,2","data":{"priority":3}})");
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_EQ(in->crm_id, "chat-42");
  EXPECT_EQ(in->channel, "chat");
  EXPECT_EQ(in->subject, "Order, #1234  arrived");
  EXPECT_EQ(in->customer_name, "Dana");
  EXPECT_EQ(in->customer_address, "dana@example.com");
  EXPECT_EQ(in->url, "https://crm.example.test/case/42?a=1,2");
  EXPECT_EQ(in->data_json, R"({"priority":3})");
  EXPECT_FALSE(in->closed);
  EXPECT_EQ(CustomerLine(in->customer_name, in->customer_address), "Dana <dana@example.com>");
}

TEST(Payload, GenericRejections) {
  auto bad = [](std::string_view body) {
    auto in = ParsePayload(SourceKind::kGeneric, body);
    EXPECT_TRUE(absl::IsInvalidArgument(in.status())) << body;
    return std::string(in.status().message());
  };
  EXPECT_NE(bad("{not json").find("not valid JSON"), std::string::npos);
  EXPECT_NE(bad("[1]").find("object"), std::string::npos);
  EXPECT_NE(bad(R"({"channel":"chat"})").find("no id"), std::string::npos);
  EXPECT_NE(bad(R"({"id":"","channel":"chat"})").find("no id"), std::string::npos);
  EXPECT_NE(bad(R"({"id":{"x":1},"channel":"chat"})").find("string"), std::string::npos);
  EXPECT_NE(bad(R"({"id":"1","channel":"fax"})").find("channel"), std::string::npos);
  EXPECT_NE(bad(R"({"id":"1"})").find("channel"), std::string::npos);
  EXPECT_NE(bad(R"j({"id":"1","channel":"chat","url":"javascript:alert(1)"})j").find("https"),
            std::string::npos);
  EXPECT_NE(bad(R"({"id":"1","channel":"chat","url":"http://crm.example.test/x"})").find("https"),
            std::string::npos);
  EXPECT_NE(bad(absl::StrCat(R"({"id":"1","channel":"chat","url":"https://x/)",
                             std::string(400, '/'), R"("})"))
                .find("too long"),
            std::string::npos);
  EXPECT_NE(bad(absl::StrCat(R"({"id":")", std::string(201, 'x'), R"(","channel":"chat"})"))
                .find("longer"),
            std::string::npos);
  std::string deep;
  for (int i = 0; i < 40; ++i)
    deep += "[";
  EXPECT_NE(bad(absl::StrCat(R"({"id":"1","channel":"chat","data":)", deep)).find("JSON"),
            std::string::npos);
  // Loopback http is allowed (demos, tests).
  EXPECT_TRUE(ParsePayload(SourceKind::kGeneric,
                           R"({"id":"1","channel":"sms","url":"http://127.0.0.1:8080/c/1"})")
                  .ok());
  // Long subjects are cut on a UTF-8 boundary, not refused.
  std::string subject;
  for (int i = 0; i < 200; ++i)
    subject += "é";
  auto in =
      ParsePayload(SourceKind::kGeneric,
                   absl::StrCat(R"({"id":"1","channel":"email","subject":")", subject, R"("})"));
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->subject.size(), kMaxSubjectBytes);
}

TEST(Payload, SalesforcePlatformEventAndFlowCallout) {
  auto pe = ParsePayload(SourceKind::kSalesforce, R"({"data":{"schema":"x","payload":{
      "WorkItemId__c":"0Mw5e000000ABCD","Channel__c":"Chat","Subject__c":"Help",
      "CustomerName__c":"Ann","CustomerAddress__c":"ann@example.com",
      "RecordUrl__c":"https://acme.lightning.force.com/lightning/r/MessagingSession/0Mw5e/view"},
      "event":{"replayId":7}},"channel":"/event/Omnibridge_Work__e"})");
  ASSERT_TRUE(pe.ok()) << pe.status();
  EXPECT_EQ(pe->crm_id, "0Mw5e000000ABCD");
  EXPECT_EQ(pe->channel, "chat");
  EXPECT_EQ(pe->subject, "Help");
  EXPECT_EQ(pe->customer_address, "ann@example.com");
  auto flow = ParsePayload(SourceKind::kSalesforce,
                           R"({"Id":"5005e00000XYZ","Origin":"Email","Subject":"Invoice",
                               "SuppliedName":"Bo","SuppliedEmail":"bo@example.com"})");
  ASSERT_TRUE(flow.ok()) << flow.status();
  EXPECT_EQ(flow->crm_id, "5005e00000XYZ");
  EXPECT_EQ(flow->channel, "email");
  EXPECT_EQ(flow->customer_name, "Bo");
  auto no_channel = ParsePayload(SourceKind::kSalesforce, R"({"Id":"1","Origin":"Phone"})");
  EXPECT_TRUE(absl::IsInvalidArgument(no_channel.status()));
}

TEST(Payload, ZendeskTrigger) {
  auto in = ParsePayload(SourceKind::kZendesk, R"({"ticket":{"id":4711,"title":"Where is it?",
      "via":"Messaging","url":"acme.zendesk.com/agent/tickets/4711","status":"open",
      "requester":{"name":"Cy","email":"cy@example.com"}}})");
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_EQ(in->crm_id, "4711");
  EXPECT_EQ(in->channel, "chat");
  EXPECT_EQ(in->url, "https://acme.zendesk.com/agent/tickets/4711");
  EXPECT_EQ(in->customer_name, "Cy");
  auto mail = ParsePayload(SourceKind::kZendesk,
                           R"({"ticket":{"id":"8","via":{"channel":"email"},"status":"solved"}})");
  ASSERT_TRUE(mail.ok()) << mail.status();
  EXPECT_EQ(mail->channel, "email");
  EXPECT_TRUE(mail->closed);
}

TEST(Payload, OracleIncident) {
  auto in =
      ParsePayload(SourceKind::kOracle, R"({"incident":{"id":12345,"lookupName":"250101-000001",
      "subject":"Broken","channel":{"lookupName":"Email"},
      "primaryContact":{"name":"Di","email":"di@example.com"},
      "url":"https://acme.custhelp.com/agent/incident/12345"}})");
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_EQ(in->crm_id, "12345");
  EXPECT_EQ(in->channel, "email");
  EXPECT_EQ(in->customer_address, "di@example.com");
}

TEST(Sources, ParsesAndNamesTheBadKey) {
  auto parse = [](std::string_view text) {
    boost::json::value v = boost::json::parse(boost::json::string_view(text.data(), text.size()));
    return ParseSources(&v);
  };
  auto ok = parse(R"([{"name":"crm","kind":"zendesk","auth":"bearer","secret":"0123456789abcdef",
                       "queue":"digital","queues":{"email":"email-q"}}])");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ((*ok)[0].QueueFor("email"), "email-q");
  EXPECT_EQ((*ok)[0].QueueFor("chat"), "digital");
  auto msg = [&](std::string_view text) { return std::string(parse(text).status().message()); };
  EXPECT_NE(msg(R"([{"name":"c","kind":"x","secret":"0123456789abcdef","queue":"q"}])")
                .find("route.sources[0].kind"),
            std::string::npos);
  EXPECT_NE(msg(R"([{"name":"c","secret":"short","queue":"q"}])").find("secret"),
            std::string::npos);
  EXPECT_NE(msg(R"([{"name":"c","secret":"0123456789abcdef","queue":"a,b"}])").find("queue"),
            std::string::npos);
  EXPECT_NE(msg(R"([{"name":"c/d","secret":"0123456789abcdef","queue":"q"}])").find("name"),
            std::string::npos);
  EXPECT_NE(msg(R"([{"name":"c","secret":"0123456789abcdef","queue":"q","x":1}])").find("unknown"),
            std::string::npos);
  EXPECT_NE(msg("[]").find("at least one"), std::string::npos);
}

TEST(InteractionId, DeterministicPerSourceAndId) {
  EXPECT_EQ(InteractionIdFor("a", "1"), InteractionIdFor("a", "1"));
  EXPECT_NE(InteractionIdFor("a", "1"), InteractionIdFor("b", "1"));
  EXPECT_NE(InteractionIdFor("a", "1"), InteractionIdFor("a1", ""));
  EXPECT_EQ(InteractionIdFor("a", "1").size(), 27u);
  EXPECT_TRUE(InteractionIdFor("a", "1").starts_with("ob-"));
}

TEST(Authenticator, ZendeskNativeSignature) {
  Authenticator auth;
  Source s = MakeSource(SourceKind::kZendesk);
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  const std::string ts = "2027-01-15T08:00:00Z";  // 1800000000
  const std::string body = R"({"ticket":{"id":1,"via":"chat"}})";
  const std::string sig = HmacSha256Base64(kSecret, ts + body);
  EXPECT_EQ(sig.size(), 44u);
  EXPECT_TRUE(auth.VerifyZendesk(s, sig, ts, body, now).ok());
  EXPECT_NE(auth.VerifyZendesk(s, sig, ts, body, now).message().find("replayed"),
            std::string::npos);
  EXPECT_TRUE(absl::IsUnauthenticated(auth.VerifyZendesk(s, sig, ts, body + " ", now)));
  EXPECT_NE(auth.VerifyZendesk(s, sig, ts, body, now + absl::Minutes(6)).message().find("5-minute"),
            std::string::npos);
  EXPECT_NE(auth.VerifyZendesk(s, sig, "yesterday", body, now).message().find("Timestamp"),
            std::string::npos);
  const std::string unix_ts = "1800000001";
  EXPECT_TRUE(
      auth.VerifyZendesk(s, HmacSha256Base64(kSecret, unix_ts + body), unix_ts, body, now).ok());
}

}  // namespace
}  // namespace omnibridge::routing
