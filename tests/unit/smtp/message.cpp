#include <postern/smtp/message.hpp>

#include <boost/test/unit_test.hpp>

#include <string>

using namespace postern::smtp;

BOOST_AUTO_TEST_SUITE(message)

BOOST_AUTO_TEST_CASE(assembler_unstuffs_and_ends_at_dot)
{
    message_assembler m(10000);
    BOOST_TEST(!m.add_line("Subject: dots"));
    BOOST_TEST(!m.add_line(""));
    BOOST_TEST(!m.add_line(".."));
    BOOST_TEST(!m.add_line("..leading"));
    BOOST_TEST(!m.add_line(". space"));
    BOOST_TEST(m.add_line("."));
    BOOST_TEST(!m.rejection().has_value());
    BOOST_TEST(m.body() == "Subject: dots\n\n.\n.leading\n space\n");
}

BOOST_AUTO_TEST_CASE(assembler_keeps_998_octet_line)
{
    message_assembler m(10000);
    std::string line(998, 'x');
    m.add_line(line);
    m.add_line(".");
    BOOST_TEST(!m.rejection().has_value());
    BOOST_TEST(m.body() == line + "\n");
}

BOOST_AUTO_TEST_CASE(assembler_limits_unstuffed_line_length)
{
    message_assembler stuffed(10000);
    stuffed.add_line("." + std::string(998, '.'));
    BOOST_TEST(!stuffed.rejection().has_value());
    BOOST_TEST(stuffed.body() == std::string(998, '.') + "\n");

    message_assembler over(10000);
    over.add_line(std::string(999, 'x'));
    BOOST_TEST((over.rejection() == data_outcome::line_too_long));
}

BOOST_AUTO_TEST_CASE(assembler_rejects_bare_line_endings)
{
    const std::string lines[] = {"a\nb", "a\rb", "trailing\r", "\n.\n"};
    for (const auto& line : lines) {
        message_assembler m(10000);
        m.add_line(line);
        BOOST_TEST(!m.add_line("after"));
        BOOST_TEST(m.add_line("."));
        BOOST_TEST((m.rejection() == data_outcome::bare_line_ending));
        BOOST_TEST(m.body().empty());
    }
}

BOOST_AUTO_TEST_CASE(assembler_counts_size_with_crlf)
{
    message_assembler exact(10);
    exact.add_line("12345678");
    BOOST_TEST(!exact.rejection().has_value());

    message_assembler over(10);
    over.add_line("123456789");
    BOOST_TEST((over.rejection() == data_outcome::too_big));
}

BOOST_AUTO_TEST_CASE(assembler_flags_overlong_line)
{
    message_assembler m(10000);
    m.add_line("fine");
    m.add_overlong_line();
    m.add_line(".");
    BOOST_TEST((m.rejection() == data_outcome::line_too_long));
}

BOOST_AUTO_TEST_CASE(date_is_rfc5322_utc)
{
    BOOST_TEST(rfc5322_date(0) == "Thu, 01 Jan 1970 00:00:00 +0000");
    BOOST_TEST(rfc5322_date(1796400000) == "Fri, 04 Dec 2026 16:00:00 +0000");
}

BOOST_AUTO_TEST_CASE(received_header_with_tls_and_auth)
{
    trace_info info;
    info.identity = "mail.test";
    info.helo = "client.example";
    info.client_address = "192.0.2.7";
    info.tls = postern::transport::tls_details{"TLSv1.3",
                                               "TLS_AES_256_GCM_SHA384", 256};
    info.authenticated_user = "alice";
    info.id = "abc.1";
    info.recipients = {"bob@mail.test"};
    BOOST_TEST(received_header(info, 0) ==
               "Received: from client.example ([192.0.2.7])\n"
               "\tby mail.test (Postern) with ESMTPSA\n"
               "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 "
               "(256 bits))\n"
               "\t(authenticated as alice)\n"
               "\tid abc.1\n"
               "\tfor <bob@mail.test>; Thu, 01 Jan 1970 00:00:00 +0000\n");
}

BOOST_AUTO_TEST_CASE(received_header_plain_many_recipients)
{
    trace_info info;
    info.identity = "mail.test";
    info.helo = "client.example";
    info.client_address = "::1";
    info.id = "abc.2";
    info.recipients = {"a@mail.test", "b@mail.test"};
    BOOST_TEST(received_header(info, 0) ==
               "Received: from client.example ([::1])\n"
               "\tby mail.test (Postern) with ESMTP\n"
               "\tid abc.2; Thu, 01 Jan 1970 00:00:00 +0000\n");
    BOOST_TEST(return_path_header("") == "Return-Path: <>\n");
}

BOOST_AUTO_TEST_SUITE_END()
