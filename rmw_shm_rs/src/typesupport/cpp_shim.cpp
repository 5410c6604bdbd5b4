// Accessors for C++ message members that Rust cannot reach through the introspection data:
// std::string / std::u16string fields and elements, and exception-safe calls of the C++
// introspection function pointers (a C++ exception must not unwind into Rust frames).
// Compiled by build.rs with the `cc` crate; used by src/typesupport/cpp.rs.

#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <vector>

#include "rosidl_runtime_cpp/message_initialization.hpp"

extern "C" {

// Layout facts the Rust side checks against (sizes of the member types).
size_t rmw_shm_rs_cpp_sizeof(int what)
{
  switch (what) {
    case 0: return sizeof(std::string);
    case 1: return sizeof(std::u16string);
    case 2: return sizeof(std::vector<uint8_t>);
    case 3: return sizeof(std::vector<bool>);
    default: return 0;
  }
}

size_t rmw_shm_rs_cpp_string_size(const void * s)
{
  return static_cast<const std::string *>(s)->size();
}

const char * rmw_shm_rs_cpp_string_data(const void * s)
{
  return static_cast<const std::string *>(s)->data();
}

bool rmw_shm_rs_cpp_string_assign(void * s, const char * data, size_t n)
{
  try {
    static_cast<std::string *>(s)->assign(data, n);
    return true;
  } catch (...) {
    return false;
  }
}

size_t rmw_shm_rs_cpp_u16string_size(const void * s)
{
  return static_cast<const std::u16string *>(s)->size();
}

const uint16_t * rmw_shm_rs_cpp_u16string_data(const void * s)
{
  return reinterpret_cast<const uint16_t *>(static_cast<const std::u16string *>(s)->data());
}

bool rmw_shm_rs_cpp_u16string_assign(void * s, const uint16_t * data, size_t n)
{
  try {
    static_cast<std::u16string *>(s)->assign(reinterpret_cast<const char16_t *>(data), n);
    return true;
  } catch (...) {
    return false;
  }
}

// Calls a member's resize_function (std::vector::resize may throw std::bad_alloc or
// std::length_error).
bool rmw_shm_rs_cpp_call_resize(void (* resize)(void *, size_t), void * member, size_t n)
{
  try {
    resize(member, n);
    return true;
  } catch (...) {
    return false;
  }
}

// Calls a MessageMembers init_function with MessageInitialization::ALL (constructors of
// default strings and vectors may throw std::bad_alloc).
bool rmw_shm_rs_cpp_call_init(
  void (* init)(void *, rosidl_runtime_cpp::MessageInitialization), void * msg)
{
  try {
    init(msg, rosidl_runtime_cpp::MessageInitialization::ALL);
    return true;
  } catch (...) {
    return false;
  }
}

}  // extern "C"
