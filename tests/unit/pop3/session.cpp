#include <postern/pop3/session.hpp>

#include <postern/sasl/login.hpp>
#include <postern/sasl/mechanism_set.hpp>
#include <postern/sasl/plain.hpp>

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>
#include <vector>

using namespace postern;
using namespace postern::pop3;

namespace {

// An in-memory listing with the shape of store::maildir_maildrop, so the
// machine's replies can be checked without files.
struct listing {
    struct message {
        std::string unique_id;
        std::uint64_t size = 0;
        bool deleted = false;
        bool seen = false;
    };

    std::vector<message> items;

    const std::vector<message>& messages() const { return items; }

    std::size_t count() const
    {
        std::size_t n = 0;
        for (const auto& m : items)
            n += m.deleted ? 0 : 1;
        return n;
    }

    std::uint64_t total_size() const
    {
        std::uint64_t n = 0;
        for (const auto& m : items)
            n += m.deleted ? 0 : m.size;
        return n;
    }

    bool mark_deleted(std::size_t i)
    {
        if (i >= items.size() || items[i].deleted)
            return false;
        items[i].deleted = true;
        return true;
    }

    void reset()
    {
        for (auto& m : items)
            m.deleted = false;
    }

    void mark_seen(std::size_t i) { items[i].seen = true; }
};

using mechanisms = sasl::mechanism_set<sasl::plain, sasl::login>;
using pop3_session = session<mechanisms, listing>;

settings test_settings()
{
    settings s;
    s.identity = "mail.test";
    s.auth.set("USER", sasl::availability::tls);
    s.auth.set("APOP", sasl::availability::allow);
    s.auth.set("PLAIN", sasl::availability::tls);
    s.auth.set("LOGIN", sasl::availability::allow);
    return s;
}

std::bitset<8> verifiers_and_plaintext()
{
    std::bitset<8> supplied;
    supplied.set(static_cast<std::size_t>(
        directory::secret_kind::password_verifier));
    supplied.set(static_cast<std::size_t>(directory::secret_kind::plaintext));
    return supplied;
}

struct fixture {
    settings config = test_settings();
    pop3_session machine{config, {true, false}, verifiers_and_plaintext()};
    listing drop{{{"uid-1", 120}, {"uid-2", 200}}};
    action last = action::none;

    std::string send(std::string_view line)
    {
        last = machine.on_line(line);
        return machine.take_output();
    }

    // Logs in with USER/PASS over TLS and opens the listing.
    void log_in()
    {
        machine.tls_started();
        send("USER alice");
        send("PASS secret");
        BOOST_REQUIRE((last == action::verify_password));
        BOOST_REQUIRE((machine.password_verified(true) ==
                       action::authenticated));
        machine.maildrop_opened(drop);
        machine.take_output();
    }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(session_machine, fixture)

BOOST_AUTO_TEST_CASE(greeting_has_apop_timestamp)
{
    machine.greet();
    auto greeting = machine.take_output();
    BOOST_TEST(greeting.starts_with("+OK Postern POP3 server ready <"));
    BOOST_TEST(greeting.ends_with("@mail.test>\r\n"));
}

BOOST_AUTO_TEST_CASE(greeting_without_apop_when_denied)
{
    config.auth.set("APOP", sasl::availability::deny);
    pop3_session plain{config, {true, false}, verifiers_and_plaintext()};
    plain.greet();
    BOOST_TEST(plain.take_output() == "+OK Postern POP3 server ready\r\n");
}

BOOST_AUTO_TEST_CASE(capa_before_and_after_tls)
{
    BOOST_TEST(send("CAPA") == "+OK Capability list follows\r\n"
                               "TOP\r\n"
                               "UIDL\r\n"
                               "SASL LOGIN\r\n"
                               "STLS\r\n"
                               "RESP-CODES\r\n"
                               "AUTH-RESP-CODE\r\n"
                               "PIPELINING\r\n"
                               "IMPLEMENTATION Postern\r\n"
                               ".\r\n");
    BOOST_TEST(send("STLS") == "+OK Begin TLS negotiation\r\n");
    BOOST_TEST((last == action::start_tls));
    machine.tls_started();
    BOOST_TEST(send("CAPA") == "+OK Capability list follows\r\n"
                               "TOP\r\n"
                               "UIDL\r\n"
                               "USER\r\n"
                               "SASL PLAIN LOGIN\r\n"
                               "RESP-CODES\r\n"
                               "AUTH-RESP-CODE\r\n"
                               "PIPELINING\r\n"
                               "IMPLEMENTATION Postern\r\n"
                               ".\r\n");
    BOOST_TEST(send("STLS") ==
               "-ERR Command not permitted when TLS active\r\n");
}

BOOST_AUTO_TEST_CASE(user_pass_needs_tls)
{
    BOOST_TEST(send("USER alice") ==
               "-ERR [AUTH] Plaintext authentication disallowed on "
               "unencrypted connections\r\n");
    BOOST_TEST(send("PASS secret") == "-ERR Send USER first\r\n");
}

BOOST_AUTO_TEST_CASE(stls_forgets_user)
{
    config.auth.set("USER", sasl::availability::allow);
    BOOST_TEST(send("USER alice") == "+OK Send PASS\r\n");
    send("STLS");
    machine.tls_started();
    BOOST_TEST(send("PASS secret") == "-ERR Send USER first\r\n");
}

BOOST_AUTO_TEST_CASE(user_pass_success_and_failure)
{
    machine.tls_started();
    BOOST_TEST(send("USER alice") == "+OK Send PASS\r\n");
    BOOST_TEST(send("PASS two words") == "");
    BOOST_TEST((last == action::verify_password));
    BOOST_TEST(machine.request().authcid == "alice");
    BOOST_TEST(machine.request().password.view() == "two words");
    BOOST_TEST((machine.method() == login_method::user_pass));

    BOOST_TEST((machine.password_verified(false) == action::auth_failed));
    BOOST_TEST(machine.take_output() ==
               "-ERR [AUTH] Authentication failed\r\n");
    BOOST_TEST((machine.current_state() == state::authorization));

    send("USER Alice");
    send("PASS secret");
    BOOST_TEST((machine.password_verified(true) == action::authenticated));
    BOOST_TEST(machine.user() == "alice");
    machine.maildrop_opened(drop);
    BOOST_TEST(machine.take_output() ==
               "+OK maildrop has 2 messages (320 octets)\r\n");
    BOOST_TEST((machine.current_state() == state::transaction));
}

BOOST_AUTO_TEST_CASE(maildrop_in_use_stays_in_authorization)
{
    machine.tls_started();
    send("USER alice");
    send("PASS secret");
    machine.password_verified(true);
    machine.maildrop_failed(open_outcome::in_use);
    BOOST_TEST(machine.take_output() ==
               "-ERR [IN-USE] Mailbox is locked by another session\r\n");
    BOOST_TEST((machine.current_state() == state::authorization));
    BOOST_TEST(send("STAT") == "-ERR Command not valid in this state\r\n");
}

BOOST_AUTO_TEST_CASE(apop_checks_plaintext_then_override)
{
    machine.greet();
    auto greeting = machine.take_output();
    auto timestamp = greeting.substr(greeting.find('<'));
    timestamp.resize(timestamp.size() - 2);

    directory::credentials account;
    account.user = "alice";
    account.pop3_override_plaintext = secret("override");

    send("APOP alice " + apop_digest(timestamp, "override"));
    BOOST_TEST((last == action::lookup_credentials));
    BOOST_TEST(machine.request().authcid == "alice");
    BOOST_TEST((machine.credentials_found(&account) ==
                action::authenticated));

    pop3_session second{config, {true, false}, verifiers_and_plaintext()};
    second.greet();
    second.take_output();
    second.on_line("APOP alice 00000000000000000000000000000000");
    BOOST_TEST((second.credentials_found(&account) == action::auth_failed));
    BOOST_TEST(second.take_output() ==
               "-ERR [AUTH] Authentication failed\r\n");
    second.on_line("APOP nobody 00000000000000000000000000000000");
    BOOST_TEST((second.credentials_found(nullptr) == action::auth_failed));
}

BOOST_AUTO_TEST_CASE(apop_needs_name_and_32_hex_digits)
{
    machine.greet();
    machine.take_output();
    const char* bad[] = {"APOP alice", "APOP alice 0123",
                         "APOP alice 2debde64883eee16f9497feb22a7db26 x",
                         "APOP alice 2debde64883eee16f9497feb22a7db2g",
                         "APOP  2debde64883eee16f9497feb22a7db26"};
    for (const char* line : bad)
        BOOST_TEST_CONTEXT(line)
        {
            BOOST_TEST(send(line) == "-ERR Syntax error in arguments\r\n");
        }
}

BOOST_AUTO_TEST_CASE(auth_login_and_cancel)
{
    BOOST_TEST(send("AUTH PLAIN") ==
               "-ERR [AUTH] Authentication mechanism requires an encrypted "
               "connection\r\n");
    BOOST_TEST(send("AUTH CRAM-MD5") ==
               "-ERR Unrecognized authentication type\r\n");
    BOOST_TEST(send("AUTH") == "+OK Authentication mechanisms follow\r\n"
                               "LOGIN\r\n"
                               ".\r\n");
    BOOST_TEST(send("AUTH LOGIN") == "+ VXNlcm5hbWU6\r\n");
    BOOST_TEST(send("*") == "-ERR Authentication cancelled\r\n");
    BOOST_TEST(send("AUTH LOGIN YWxpY2U=") == "+ UGFzc3dvcmQ6\r\n");
    BOOST_TEST(send("c2VjcmV0") == "");
    BOOST_TEST((last == action::verify_password));
    BOOST_TEST((machine.method() == login_method::sasl));
    BOOST_TEST(machine.request().authcid == "alice");
    BOOST_TEST((machine.password_verified(true) == action::authenticated));
}

BOOST_AUTO_TEST_CASE(transaction_listing_commands)
{
    log_in();
    BOOST_TEST(send("STAT") == "+OK 2 320\r\n");
    BOOST_TEST(send("LIST") == "+OK maildrop has 2 messages (320 octets)\r\n"
                               "1 120\r\n"
                               "2 200\r\n"
                               ".\r\n");
    BOOST_TEST(send("LIST 2") == "+OK 2 200\r\n");
    BOOST_TEST(send("UIDL") == "+OK Unique-ID listing follows\r\n"
                               "1 uid-1\r\n"
                               "2 uid-2\r\n"
                               ".\r\n");
    BOOST_TEST(send("UIDL 1") == "+OK 1 uid-1\r\n");
    BOOST_TEST(send("LIST 3") == "-ERR No such message\r\n");
    BOOST_TEST(send("LIST 0") == "-ERR Syntax error in arguments\r\n");
    BOOST_TEST(send("USER bob") == "-ERR Command not valid in this state\r\n");
    BOOST_TEST(send("NOOP") == "+OK\r\n");
}

BOOST_AUTO_TEST_CASE(dele_rset_and_update)
{
    log_in();
    BOOST_TEST(send("DELE 1") == "+OK Message 1 deleted\r\n");
    BOOST_TEST(send("DELE 1") == "-ERR Message already deleted\r\n");
    BOOST_TEST(send("RETR 1") == "-ERR No such message\r\n");
    BOOST_TEST(send("STAT") == "+OK 1 200\r\n");
    BOOST_TEST(send("LIST") == "+OK maildrop has 1 message (200 octets)\r\n"
                               "2 200\r\n"
                               ".\r\n");
    BOOST_TEST(send("RSET") ==
               "+OK maildrop has 2 messages (320 octets)\r\n");
    send("DELE 2");
    BOOST_TEST(send("QUIT") == "");
    BOOST_TEST((last == action::update));
    BOOST_TEST((machine.update_finished(true) == action::close));
    BOOST_TEST(machine.take_output() ==
               "+OK Postern POP3 server signing off (1 message left)\r\n");
}

BOOST_AUTO_TEST_CASE(retr_and_top_request_streaming)
{
    log_in();
    send("RETR 2");
    BOOST_TEST((last == action::send_message));
    BOOST_TEST(machine.message_index() == 1u);
    BOOST_TEST(!machine.top_lines().has_value());
    machine.message_opened();
    BOOST_TEST(machine.take_output() == "+OK 200 octets\r\n");
    BOOST_TEST(drop.items[1].seen);

    send("TOP 1 5");
    BOOST_TEST((last == action::send_message));
    BOOST_TEST(*machine.top_lines() == 5u);
    machine.message_opened();
    BOOST_TEST(machine.take_output() == "+OK Top of message follows\r\n");
    BOOST_TEST(!drop.items[0].seen);

    BOOST_TEST(send("TOP 1") == "-ERR Syntax error in arguments\r\n");
    BOOST_TEST(send("TOP 1 x") == "-ERR Syntax error in arguments\r\n");
}

BOOST_AUTO_TEST_CASE(bare_cr_lf_nul_in_command_rejected)
{
    machine.tls_started();
    BOOST_TEST(send("USER alice\rPASS secret") ==
               "-ERR Bare CR, LF or NUL in command line\r\n");
    BOOST_TEST(send(std::string("USER al\0ice", 12)) ==
               "-ERR Bare CR, LF or NUL in command line\r\n");
    BOOST_TEST(send("PASS secret") == "-ERR Send USER first\r\n");
}

BOOST_AUTO_TEST_CASE(quit_and_errors_in_authorization)
{
    BOOST_TEST(send("XYZZY") == "-ERR Unknown command\r\n");
    BOOST_TEST(send("NOOP " + std::string(260, 'x')) ==
               "-ERR Line too long\r\n");
    BOOST_TEST(send("QUIT") == "+OK Postern POP3 server signing off\r\n");
    BOOST_TEST((last == action::close));
}

BOOST_AUTO_TEST_SUITE_END()
