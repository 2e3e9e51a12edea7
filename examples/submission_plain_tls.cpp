// A tailored SMTP submission server: implicit TLS only (RFC 8314), AUTH
// PLAIN only, users in memory, mail into Maildir. It shows how a server is
// composed from one type per policy; no other SASL mechanism is compiled
// in.
//
// Usage: submission_plain_tls DATA_DIR PORT USER PASSWORD
// The certificate is generated in DATA_DIR/tls on first start.

#include <postern/core/io_pool.hpp>
#include <postern/directory/memory.hpp>
#include <postern/sasl/mechanism_set.hpp>
#include <postern/sasl/plain.hpp>
#include <postern/smtp/server.hpp>
#include <postern/store/maildir.hpp>
#include <postern/tls/certificate.hpp>
#include <postern/tls/context.hpp>
#include <postern/trust/rules.hpp>

#include <asio/signal_set.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

namespace {

using submission_server =
    postern::smtp::server<postern::directory::memory_directory,
                          postern::sasl::mechanism_set<postern::sasl::plain>,
                          postern::trust::rules,
                          postern::store::maildir_store>;

postern::smtp::settings make_settings()
{
    postern::smtp::settings config;
    config.identity = "localhost";
    config.local_domains = {"localhost"};
    config.auth.set("PLAIN", postern::sasl::availability::tls);
    return config;
}

void print_event(const postern::event& e)
{
    std::clog << e.session << ' ' << e.client << ' ' << e.name;
    for (const auto& [key, value] : e.fields)
        std::clog << ' ' << key << '=' << value;
    std::clog << '\n';
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 5) {
        std::cerr << "usage: submission_plain_tls DATA_DIR PORT USER "
                     "PASSWORD\n";
        return 1;
    }
    std::filesystem::path data = argv[1];
    auto port = static_cast<unsigned short>(std::atoi(argv[2]));

    auto cert = data / "tls" / "cert.pem";
    auto key = data / "tls" / "key.pem";
    auto ec = postern::tls::ensure_certificate({{"localhost"}}, cert, key);
    if (ec) {
        std::cerr << "cannot create the certificate: " << ec.message() << '\n';
        return 2;
    }
    auto tls = postern::tls::make_server_context({cert, key});

    postern::directory::memory_directory users;
    users.add_user(argv[3], postern::secret(argv[4]));
    postern::trust::rules trust;
    postern::store::maildir_store store(data / "mail", data / "queue",
                                        "localhost");

    postern::io_pool pool(1);
    asio::thread_pool workers(2);
    submission_server server(pool, workers, users, trust, store,
                             make_settings(), print_event, &tls);
    server.listen({"submissions",
                   {asio::ip::make_address("127.0.0.1"), port},
                   postern::smtp::tls_mode::implicit,
                   false});

    asio::signal_set signals(pool.main(), SIGINT, SIGTERM);
    signals.async_wait([&](auto, int) {
        server.stop();
        pool.release();
    });
    pool.run();
    return 0;
}
