#include <postern/smtp/session.hpp>

#include <postern/sasl/login.hpp>
#include <postern/sasl/mechanism_set.hpp>
#include <postern/sasl/plain.hpp>

#include <boost/test/unit_test.hpp>

#include <string>

using namespace postern;
using namespace postern::smtp;

namespace {

using mechanisms = sasl::mechanism_set<sasl::plain, sasl::login>;
using smtp_session = session<mechanisms>;

settings test_settings()
{
    settings s;
    s.identity = "mail.test";
    s.local_domains = {"mail.test", "localhost"};
    s.max_message_size = 1000;
    s.auth.set("PLAIN", sasl::availability::tls);
    s.auth.set("LOGIN", sasl::availability::allow);
    return s;
}

// A directory that stores only crypt hashes.
std::bitset<8> verifiers_only()
{
    std::bitset<8> supplied;
    supplied.set(static_cast<std::size_t>(
        directory::secret_kind::password_verifier));
    return supplied;
}

struct fixture {
    settings config = test_settings();
    smtp_session machine{config, {true, false, false, "192.0.2.7"},
                         verifiers_only()};

    std::string send(std::string_view line)
    {
        last = machine.on_line(line);
        return machine.take_output();
    }

    void hello() { send("EHLO client.example"); }

    action last = action::none;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(session_machine, fixture)

BOOST_AUTO_TEST_CASE(greeting_names_identity)
{
    machine.greet();
    BOOST_TEST(machine.take_output() ==
               "220 mail.test ESMTP Postern ready\r\n");
}

BOOST_AUTO_TEST_CASE(ehlo_in_clear_lists_extensions)
{
    BOOST_TEST(send("EHLO client.example") ==
               "250-mail.test greets client.example\r\n"
               "250-PIPELINING\r\n"
               "250-SIZE 1000\r\n"
               "250-8BITMIME\r\n"
               "250-ENHANCEDSTATUSCODES\r\n"
               "250-STARTTLS\r\n"
               "250-AUTH LOGIN\r\n"
               "250-AUTH=LOGIN\r\n"
               "250 HELP\r\n");
}

BOOST_AUTO_TEST_CASE(ehlo_after_tls_offers_tls_mechanisms)
{
    hello();
    BOOST_TEST(send("STARTTLS") == "220 2.0.0 Ready to start TLS\r\n");
    BOOST_TEST((last == action::start_tls));
    machine.tls_started();

    BOOST_TEST((machine.current_state() == state::initial));
    BOOST_TEST(send("MAIL FROM:<a@b.example>") ==
               "503 5.5.1 Send EHLO or HELO first\r\n");
    BOOST_TEST(send("EHLO client.example") ==
               "250-mail.test greets client.example\r\n"
               "250-PIPELINING\r\n"
               "250-SIZE 1000\r\n"
               "250-8BITMIME\r\n"
               "250-ENHANCEDSTATUSCODES\r\n"
               "250-AUTH PLAIN LOGIN\r\n"
               "250-AUTH=PLAIN LOGIN\r\n"
               "250 HELP\r\n");
    BOOST_TEST(send("STARTTLS") == "503 5.5.1 TLS already active\r\n");
}

BOOST_AUTO_TEST_CASE(helo_reply_has_no_enhanced_code)
{
    BOOST_TEST(send("HELO client.example") == "250 mail.test\r\n");
    BOOST_TEST(send("HELO") == "501 5.5.4 Syntax: HELO hostname\r\n");
    BOOST_TEST(send("EHLO") == "501 5.5.4 Syntax: EHLO hostname\r\n");
}

BOOST_AUTO_TEST_CASE(simple_commands)
{
    BOOST_TEST(send("NOOP") == "250 2.0.0 OK\r\n");
    BOOST_TEST(send("VRFY alice") ==
               "252 2.5.0 Cannot VRFY user, but will accept message for "
               "delivery\r\n");
    BOOST_TEST(send("EXPN staff") == "502 5.5.1 Command not implemented\r\n");
    BOOST_TEST(send("HELP").substr(0, 10) == "214 2.0.0 ");
    BOOST_TEST(send("XYZZY") == "500 5.5.1 Command unrecognized\r\n");
    BOOST_TEST(send("RSET now") ==
               "501 5.5.4 Syntax error, no parameters allowed\r\n");
    BOOST_TEST(send("QUIT") == "221 2.0.0 mail.test closing connection\r\n");
    BOOST_TEST((last == action::close));
}

BOOST_AUTO_TEST_CASE(bare_cr_lf_nul_in_command_rejected)
{
    hello();
    const std::string lines[] = {"NOOP\rRSET", "MAIL FROM:<a@b.example>\n",
                                 std::string("NOOP\0x", 6)};
    for (const auto& line : lines)
        BOOST_TEST(send(line) ==
                   "500 5.5.2 Bare CR, LF or NUL in command line\r\n");
}

BOOST_AUTO_TEST_CASE(command_line_over_512_octets_rejected)
{
    hello();
    std::string line = "NOOP " + std::string(506, 'x');
    BOOST_TEST(send(line) == "500 5.5.6 Line too long\r\n");
    BOOST_TEST(send(line.substr(0, 510)) == "250 2.0.0 OK\r\n");
}

BOOST_AUTO_TEST_CASE(transaction_sequence_errors)
{
    BOOST_TEST(send("MAIL FROM:<a@b.example>") ==
               "503 5.5.1 Send EHLO or HELO first\r\n");
    hello();
    BOOST_TEST(send("RCPT TO:<alice@mail.test>") ==
               "503 5.5.1 Need MAIL command\r\n");
    BOOST_TEST(send("DATA") == "503 5.5.1 Need MAIL command\r\n");
    BOOST_TEST(send("MAIL FROM:<a@b.example>") == "250 2.1.0 Sender OK\r\n");
    BOOST_TEST(send("MAIL FROM:<a@b.example>") ==
               "503 5.5.1 Sender already specified\r\n");
    BOOST_TEST(send("DATA") == "503 5.5.1 Need RCPT command\r\n");
    BOOST_TEST(send("RSET") == "250 2.0.0 Reset OK\r\n");
    BOOST_TEST(send("MAIL FROM:<a@b.example>") == "250 2.1.0 Sender OK\r\n");
}

BOOST_AUTO_TEST_CASE(mail_parameters_checked)
{
    hello();
    BOOST_TEST(send("MAIL FROM:<a@b.example> SIZE=1001") ==
               "552 5.3.4 Message size exceeds fixed maximum message "
               "size\r\n");
    BOOST_TEST(send("MAIL FROM:<a@b.example> RET=HDRS") ==
               "555 5.5.4 Unsupported MAIL or RCPT parameter\r\n");
    BOOST_TEST(send("MAIL FROM:a@b.example") ==
               "501 5.1.7 Invalid sender address syntax\r\n");
    BOOST_TEST(send("MAIL FROM:<a@b.example> SIZE=1000 BODY=8BITMIME") ==
               "250 2.1.0 Sender OK\r\n");
    BOOST_TEST(machine.eight_bit());
}

BOOST_AUTO_TEST_CASE(local_recipient_is_looked_up)
{
    hello();
    send("MAIL FROM:<a@b.example>");
    BOOST_TEST(send("RCPT TO:<Alice@Mail.Test>") == "");
    BOOST_TEST((last == action::check_recipient));
    BOOST_TEST(machine.pending_user() == "alice");
    machine.recipient_checked(lookup_outcome::found);
    BOOST_TEST(machine.take_output() == "250 2.1.5 Recipient OK\r\n");

    send("RCPT TO:<nobody@localhost>");
    BOOST_TEST((last == action::check_recipient));
    machine.recipient_checked(lookup_outcome::not_found);
    BOOST_TEST(machine.take_output() ==
               "550 5.1.1 Mailbox unavailable: user unknown\r\n");

    send("RCPT TO:<alice@mail.test>");
    machine.recipient_checked(lookup_outcome::found);
    machine.take_output();
    BOOST_TEST(machine.local_users().size() == 1u);
    BOOST_TEST(machine.recipients().size() == 2u);
}

BOOST_AUTO_TEST_CASE(postmaster_always_accepted)
{
    hello();
    send("MAIL FROM:<>");
    BOOST_TEST(send("RCPT TO:<Postmaster>") == "250 2.1.5 Recipient OK\r\n");
    BOOST_TEST(send("RCPT TO:<postmaster@mail.test>") ==
               "250 2.1.5 Recipient OK\r\n");
    BOOST_TEST(machine.local_users().size() == 1u);
    BOOST_TEST(machine.local_users().front() == "postmaster");
}

BOOST_AUTO_TEST_CASE(quoted_local_part_names_same_user)
{
    hello();
    send("MAIL FROM:<>");
    send("RCPT TO:<\"alice\"@mail.test>");
    BOOST_TEST((last == action::check_recipient));
    BOOST_TEST(machine.pending_user() == "alice");
}

BOOST_AUTO_TEST_CASE(submission_needs_trust_before_mail)
{
    smtp_session submission{config, {true, false, true, "192.0.2.7"},
                            verifiers_only()};
    submission.on_line("EHLO client.example");
    submission.take_output();
    submission.on_line("MAIL FROM:<a@b.example>");
    BOOST_TEST(submission.take_output() ==
               "530 5.7.0 Authentication required\r\n");
    submission.set_trust({trust::basis::authenticated, "alice"});
    submission.on_line("MAIL FROM:<a@b.example>");
    BOOST_TEST(submission.take_output() == "250 2.1.0 Sender OK\r\n");
}

BOOST_AUTO_TEST_CASE(invalid_local_name_is_unknown)
{
    hello();
    send("MAIL FROM:<>");
    BOOST_TEST(send("RCPT TO:<\"a/b\"@mail.test>") ==
               "550 5.1.1 Mailbox unavailable: user unknown\r\n");
}

BOOST_AUTO_TEST_CASE(relay_needs_trust)
{
    hello();
    send("MAIL FROM:<a@b.example>");
    BOOST_TEST(send("RCPT TO:<bob@elsewhere.example>") ==
               "554 5.7.1 Relaying denied\r\n");

    machine.set_trust({trust::basis::assumption, "alice"});
    BOOST_TEST(send("RCPT TO:<bob@elsewhere.example>") ==
               "250 2.1.5 Recipient OK\r\n");
    BOOST_TEST(machine.relay_recipients().size() == 1u);
    BOOST_TEST(machine.relay_recipients().front() == "bob@elsewhere.example");
}

BOOST_AUTO_TEST_CASE(data_outcomes_reply_and_reset)
{
    struct row {
        data_outcome outcome;
        std::string reply;
    };
    const row rows[] = {
        {data_outcome::stored, "250 2.0.0 Message accepted for delivery\r\n"},
        {data_outcome::too_big, "552 5.3.4 Message size exceeds fixed "
                                "maximum message size\r\n"},
        {data_outcome::bare_line_ending,
         "554 5.5.2 Bare CR or LF in message data, lines must end with "
         "CRLF\r\n"},
        {data_outcome::line_too_long,
         "554 5.6.0 Message line longer than 1000 octets\r\n"},
        {data_outcome::store_failed,
         "451 4.3.0 Local error in processing, try later\r\n"},
    };
    hello();
    machine.set_trust({trust::basis::listener, ""});
    for (const auto& r : rows) {
        send("MAIL FROM:<a@b.example>");
        send("RCPT TO:<c@d.example>");
        BOOST_TEST(send("DATA") == "354 End data with <CR><LF>.<CR><LF>\r\n");
        BOOST_TEST((last == action::receive_data));
        machine.data_finished(r.outcome);
        BOOST_TEST(machine.take_output() == r.reply);
        BOOST_TEST((machine.current_state() == state::ready));
        BOOST_TEST(machine.recipients().empty());
    }
}

BOOST_AUTO_TEST_CASE(auth_plain_in_clear_needs_tls)
{
    hello();
    BOOST_TEST(send("AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm") ==
               "538 5.7.11 Encryption required for requested "
               "authentication mechanism\r\n");
    BOOST_TEST(send("AUTH CRAM-MD5") ==
               "504 5.5.4 Unrecognized authentication type\r\n");
    BOOST_TEST(send("AUTH") ==
               "501 5.5.4 Syntax error in parameters or arguments\r\n");
}

BOOST_AUTO_TEST_CASE(auth_plain_with_initial_response)
{
    machine.tls_started();
    hello();
    BOOST_TEST(send("AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm") == "");
    BOOST_TEST((last == action::verify_password));
    BOOST_TEST(machine.sasl_request().authcid == "tim");
    BOOST_TEST(machine.sasl_request().password.view() == "tanstaaftanstaaf");

    BOOST_TEST((machine.password_verified(true) == action::authenticated));
    BOOST_TEST(machine.take_output() ==
               "235 2.7.0 Authentication successful\r\n");
    BOOST_TEST(*machine.authenticated_user() == "tim");
    BOOST_TEST(send("AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm") ==
               "503 5.5.1 Already authenticated\r\n");
}

BOOST_AUTO_TEST_CASE(auth_plain_wrong_password)
{
    machine.tls_started();
    hello();
    send("AUTH PLAIN AHRpbQB3cm9uZw==");
    BOOST_TEST((machine.password_verified(false) == action::auth_failed));
    BOOST_TEST(machine.take_output() ==
               "535 5.7.8 Authentication credentials invalid\r\n");
    BOOST_TEST(!machine.authenticated_user().has_value());
}

BOOST_AUTO_TEST_CASE(auth_plain_empty_challenge_then_response)
{
    machine.tls_started();
    hello();
    BOOST_TEST(send("AUTH PLAIN") == "334 \r\n");
    BOOST_TEST(send("AHRpbQB0YW5zdGFhZnRhbnN0YWFm") == "");
    BOOST_TEST((last == action::verify_password));
}

BOOST_AUTO_TEST_CASE(auth_rejects_bad_base64_and_cancel)
{
    machine.tls_started();
    hello();
    BOOST_TEST(send("AUTH PLAIN !!!!") ==
               "501 5.5.2 Cannot decode base64 response\r\n");
    BOOST_TEST(send("AUTH PLAIN") == "334 \r\n");
    BOOST_TEST(send("*") == "501 5.7.0 Authentication cancelled\r\n");
    BOOST_TEST((machine.current_state() == state::ready));
    BOOST_TEST(send("AUTH PLAIN =") ==
               "501 5.5.2 Malformed authentication message\r\n");
}

BOOST_AUTO_TEST_CASE(auth_login_prompts)
{
    hello();
    BOOST_TEST(send("AUTH LOGIN") == "334 VXNlcm5hbWU6\r\n");
    BOOST_TEST(send("dGlt") == "334 UGFzc3dvcmQ6\r\n");
    BOOST_TEST(send("c2VjcmV0") == "");
    BOOST_TEST((last == action::verify_password));
    BOOST_TEST(machine.sasl_request().authcid == "tim");

    machine.password_verified(false);
    machine.take_output();
    BOOST_TEST(send("AUTH LOGIN dGlt") == "334 UGFzc3dvcmQ6\r\n");
    BOOST_TEST(send("*") == "501 5.7.0 Authentication cancelled\r\n");
}

BOOST_AUTO_TEST_CASE(auth_refused_in_transaction)
{
    hello();
    send("MAIL FROM:<a@b.example>");
    BOOST_TEST(send("AUTH LOGIN") ==
               "503 5.5.1 AUTH not allowed during a mail transaction\r\n");
}

BOOST_AUTO_TEST_CASE(too_many_auth_failures_close)
{
    hello();
    for (int i = 0; i < 4; ++i) {
        send("AUTH LOGIN");
        BOOST_TEST(send("*") == "501 5.7.0 Authentication cancelled\r\n");
    }
    send("AUTH LOGIN");
    BOOST_TEST(send("*") == "501 5.7.0 Authentication cancelled\r\n"
                            "421 4.7.0 Too many errors, closing "
                            "connection\r\n");
    BOOST_TEST((last == action::auth_failed));
    BOOST_TEST((machine.current_state() == state::closed));
}

BOOST_AUTO_TEST_CASE(too_many_errors_close)
{
    for (int i = 0; i < 19; ++i)
        BOOST_TEST(send("BOGUS") == "500 5.5.1 Command unrecognized\r\n");
    BOOST_TEST(send("BOGUS") == "500 5.5.1 Command unrecognized\r\n"
                                "421 4.7.0 Too many errors, closing "
                                "connection\r\n");
    BOOST_TEST((last == action::close));
}

BOOST_AUTO_TEST_SUITE_END()
