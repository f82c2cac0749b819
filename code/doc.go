// Package code is the vocabulary of wxacode: what one WeChat mini-program
// code (小程序码, interface B getwxacodeunlimit) is. It owns the parameters
// of a code and their names, WeChat's defaults, WeChat's rules for every
// field, the appid rule, the canonical form and hash of a rendering, and
// the image formats WeChat returns.
//
// Every layer speaks it: the task payload (package jobs), the request to
// WeChat (package wechat), the object key and metadata (package storage),
// campaign validation and the worker. A rule is written here once, so enqueue,
// campaign validation and the worker cannot disagree about a page or a
// width, and WeChat never sees a request this package would refuse.
//
// The package imports only the standard library and nothing of the
// project: it is the floor below the leaves wechat, ratelimit and storage.
//
// # Parameters and defaults
//
// Params are the scene and page of a code, whether WeChat checks the page
// is published (check_path), and its Rendering: width, env_version,
// auto_color, line_color and is_hyaline. Zero values mean WeChat's
// defaults, which WeChat applies when a field is omitted: width 430,
// env_version "release", check_path true, auto_color false, line_color
// black, is_hyaline false. Their JSON names are WeChat's field names;
// Set and SetJSON read them from text (CSV, flags) and JSON (JSON Lines).
//
// # Rules
//
// Params.Validate and the Validate* functions return a *FieldError naming
// the field, with WeChat's documented rules for getwxacodeunlimit:
//
//   - scene: 1 to 32 characters of [0-9A-Za-z] and !#$&'()*+,/:;=?@-._~
//     (no '%', so no URL encoding);
//   - page: "" (the home page) or a path such as "pages/index/index",
//     valid UTF-8 without a leading '/', a query ('?'), the reserved
//     "scancode_time", spaces, control or format characters (a byte order
//     mark, a zero-width space) or U+FFFD (text already damaged), at most
//     MaxPageLen bytes;
//   - width: 0 (430) or 280 to 1280;
//   - env_version: "" (release), "release", "trial" or "develop";
//   - line_color: each of r, g, b 0 to 255;
//   - appid (ValidateApp): 1 to 64 of [A-Za-z0-9_], starting with a
//     letter or digit.
//
// # Canonical form and hash
//
// Rendering.Canonical writes every rendering parameter after defaults, as
// "env=release;width=430;auto_color=false;line_color=0,0,0;is_hyaline=false",
// so spelling a default out gives the same string as omitting it.
// Rendering.Hash is 12 hex digits of its SHA-256, or "" for the default
// rendering. Both are part of stored object keys and metadata: they never
// change for valid renderings (the tests hold golden values).
package code
