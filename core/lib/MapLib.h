// The Map library: methods of Map<K, V>, an insertion-ordered hash map.
#pragma once

#include "Library.h"

// The Map natives, in table order (see Library.h).
#define KS_MAP_NATIVES(NATIVE) \
    NATIVE("Map", "get", "EK", m_get) \
    NATIVE("Map", "set", "vKE", m_set) \
    NATIVE("Map", "has", "bK", m_has) \
    NATIVE("Map", "remove", "bK", m_remove) \
    NATIVE("Map", "size", "i", m_size) \
    NATIVE("Map", "clear", "v", m_clear) \
    NATIVE("Map", "keys", "k", m_keys) \
    NATIVE("Map", "values", "e", m_values) \
    NATIVE("Map", "toString", "s", m_to_string)

namespace ks::lib {
KS_MAP_NATIVES(KS_DECLARE_NATIVE)
}
