// A string for passwords and keys that is wiped when it is destroyed.
#pragma once

#include <openssl/crypto.h>

#include <string>
#include <string_view>
#include <utility>

namespace postern {

/// Owns secret bytes (a password, a key) and overwrites them with
/// OPENSSL_cleanse on destruction and on assignment, so they do not linger
/// in freed memory. Copying is allowed but each copy is wiped too.
class secret {
public:
    secret() = default;
    explicit secret(std::string_view bytes) : bytes_(bytes) {}
    secret(const secret&) = default;
    secret(secret&& other) noexcept : bytes_(std::move(other.bytes_))
    {
        other.wipe();
    }

    secret& operator=(const secret& other)
    {
        if (this != &other) {
            wipe();
            bytes_ = other.bytes_;
        }
        return *this;
    }

    secret& operator=(secret&& other) noexcept
    {
        if (this != &other) {
            wipe();
            bytes_ = std::move(other.bytes_);
            other.wipe();
        }
        return *this;
    }

    ~secret() { wipe(); }

    std::string_view view() const noexcept { return bytes_; }
    bool empty() const noexcept { return bytes_.empty(); }
    std::size_t size() const noexcept { return bytes_.size(); }

    void wipe() noexcept
    {
        if (!bytes_.empty())
            OPENSSL_cleanse(bytes_.data(), bytes_.size());
        bytes_.clear();
    }

private:
    std::string bytes_;
};

} // namespace postern
