#include "nft/elements.h"

#include <algorithm>
#include <cerrno>

#include "nft/batch.h"

namespace np::nft {

std::optional<SetShape> SetShape::of(const Set& s) {
  auto key = Layout::from_id(s.key_type.value_or(0));
  if (!key) return std::nullopt;
  SetShape shape{*key};
  const uint32_t flags = s.flags.value_or(0);
  if ((flags & NFT_SET_MAP) && s.data_type) {
    if (*s.data_type == NFT_DATA_VERDICT) {
      shape.verdict = true;
    } else {
      shape.data = Layout::from_id(*s.data_type);
      if (!shape.data) return std::nullopt;
    }
  }
  shape.interval = (flags & NFT_SET_INTERVAL) != 0;
  return shape;
}

namespace {

// The next key up (the first after a range); nullopt past the top of the type.
std::optional<std::string> increment(std::string b) {
  for (size_t i = b.size(); i-- > 0;) {
    if (static_cast<uint8_t>(b[i]) < 255) {
      b[i] = static_cast<char>(static_cast<uint8_t>(b[i]) + 1);
      return b;
    }
    b[i] = 0;
  }
  return std::nullopt;
}

std::string decrement(std::string b) {
  for (size_t i = b.size(); i-- > 0;) {
    if (static_cast<uint8_t>(b[i]) > 0) {
      b[i] = static_cast<char>(static_cast<uint8_t>(b[i]) - 1);
      return b;
    }
    b[i] = static_cast<char>(255);
  }
  return b;
}

template <typename F>
auto at(size_t index, const char* field, F&& fn) {
  try {
    return fn();
  } catch (const ValueError& e) {
    throw ElemError(e, index, field);
  }
}

}  // namespace

std::vector<Elem> encode_values(const SetShape& shape, const std::string& set, const std::vector<ElemInput>& in, bool remove) {
  std::vector<Elem> out;
  out.reserve(in.size() * (shape.interval ? 2 : 1));
  for (size_t i = 0; i < in.size(); i++) {
    const ElemInput& el = in[i];
    Elem e;
    if (!remove) {
      if (shape.verdict) {
        if (!el.verdict) throw ElemError(ValueError(el.value ? "must be a verdict ({ verdict: 'jump', chain }): " + set + " is a verdict map" : "is required: " + set + " is a map"), i, "value");
        e.data = el.verdict;
      } else if (shape.data) {
        if (!el.value) throw ElemError(ValueError(el.verdict ? "must be data, not a verdict: " + set + " maps to " + shape.data->name() : "is required: " + set + " is a map"), i, "value");
        Data d;
        d.value = at(i, "value", [&] { return shape.data->encode(*el.value); });
        e.data = std::move(d);
      } else if (el.value || el.verdict) {
        throw ElemError(ValueError("is not taken: " + set + " is a set, not a map"), i, "value");
      }
      e.timeout = el.timeout;
      e.comment = el.comment;
    }
    if (shape.interval) {
      auto [first, last] = at(i, "key", [&] { return shape.key.interval(el.key); });
      e.key = std::move(first);
      out.push_back(std::move(e));
      if (auto end = increment(last)) {
        Elem close;
        close.key = std::move(*end);
        close.flags = NFT_SET_ELEM_INTERVAL_END;
        out.push_back(std::move(close));
      }
    } else {
      e.key = at(i, "key", [&] { return shape.key.encode(el.key); });
      out.push_back(std::move(e));
    }
  }
  return out;
}

std::vector<ElemOutput> decode_values(const SetShape& shape, std::vector<Elem> elems) {
  auto output = [&](Datum key, Elem& e) {
    ElemOutput o;
    o.key = std::move(key);
    if (e.data) {
      if (e.data->is_verdict) o.verdict = std::move(*e.data);
      else if (shape.data) o.value = shape.data->decode(e.data->value);
    }
    o.timeout = e.timeout;
    o.expires = e.expiration;
    o.comment = std::move(e.comment);
    return o;
  };
  std::vector<ElemOutput> out;
  if (!shape.interval || shape.key.concat()) {
    out.reserve(elems.size());
    for (auto& e : elems) out.push_back(output(shape.key.decode(e.key), e));
    return out;
  }
  auto is_end = [](const Elem& e) { return (e.flags & NFT_SET_ELEM_INTERVAL_END) != 0; };
  std::stable_sort(elems.begin(), elems.end(), [&](const Elem& a, const Elem& b) {
    if (a.key != b.key) return a.key < b.key;
    return !is_end(a) && is_end(b);
  });
  for (size_t i = 0; i < elems.size(); i++) {
    Elem& e = elems[i];
    if (is_end(e)) continue;  // a lone end (nft marks the gap before the first range so)
    std::string last = i + 1 < elems.size() && is_end(elems[i + 1]) ? decrement(elems[i + 1].key)
                                                                     : std::string(e.key.size(), static_cast<char>(255));
    out.push_back(output({shape.key.interval_text(e.key, last)}, e));
  }
  return out;
}

const SetShape& SetShapes::get(nl::Socket& sock, uint8_t family, const std::string& table, const std::string& set) {
  std::string k = std::to_string(family) + '\0' + table + '\0' + set;
  auto it = shapes_.find(k);
  if (it != shapes_.end()) return it->second;
  auto sets = list_sets(sock, family, table, set);
  if (sets.empty()) throw nl::NlError(ENOENT, "NFT_MSG_GETSET", "no set " + set + " in table " + table);
  auto shape = SetShape::of(sets[0]);
  if (!shape) {
    throw nl::NlError(EOPNOTSUPP, "NFT_MSG_GETSET",
                      "set " + set + " has a key or data type netplumb cannot encode (key type " +
                          std::to_string(sets[0].key_type.value_or(0)) + ")");
  }
  return shapes_.emplace(std::move(k), std::move(*shape)).first->second;
}

SetShapes& set_shapes(nl::Socket& sock) {
  if (!sock.layer_state) sock.layer_state = std::make_shared<SetShapes>();
  return *static_cast<SetShapes*>(sock.layer_state.get());
}

}  // namespace np::nft
