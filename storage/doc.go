// Package storage is where finished codes go: an S3-compatible bucket (AWS
// S3, MinIO, Tencent COS, Aliyun OSS, versitygw...) or a local directory,
// behind one small Store interface, with deterministic keys that never
// lose, corrupt or mix up a code.
//
// # Choosing a store
//
// Open takes a URL: "s3://bucket/optional/prefix" or "file:///abs/dir" (or
// a bare directory path). OpenFromEnv reads it from WXACODE_STORAGE_URL and
// defaults to the directory DefaultLocalDir. Credentials never go in the
// URL: the S3 backend uses the standard AWS chain and environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_PROFILE,
// AWS_ENDPOINT_URL_S3, AWS_CA_BUNDLE, ...), overridable through Options.
// Self-hosted servers usually need path-style addressing
// (Options.S3PathStyle or WXACODE_S3_PATH_STYLE=true).
//
// # S3 client settings
//
// Request checksums are computed and response checksums validated only
// "when required". With the SDK's default ("when supported"), uploads over
// https are framed as Content-Encoding: aws-chunked with a trailing CRC32,
// and several S3-compatible servers store that framing inside the object.
// Instead each PutObject sends the plain body from a bytes.Reader with a
// Content-MD5 header, so the server rejects (BadDigest) rather than stores
// a body that arrived altered. Options.HTTPClient is an
// awshttp.BuildableClient because the SDK can only apply AWS_CA_BUNDLE (or
// Options.CABundle) to that type.
//
// Conditional create (PutOptions.IfAbsent) is a HeadObject check followed
// by PutObject with If-None-Match: *. AWS S3 (since 2024), versitygw and
// gofakes3 answer a racing second writer with 412, reported as ErrExists
// (check your MinIO/COS/OSS release); servers that ignore
// the header (s3rver, some gateways) are still covered by the HeadObject
// check except in that narrow race.
//
// # Keys
//
// A KeyTemplate turns KeyParams (an appid, a code.Params and a
// code.Format) into a key. DefaultKeyTemplate is
// "{appid}/{page}/{scene}{params}.{ext}". Placeholders:
//
//	{appid}   EncodeSegment(AppID)
//	{page}    EncodeSegment(Page): the whole page path is one segment
//	{scene}   EncodeSegment(Scene)
//	{params}  "" for the default rendering, else "~p" + code.Rendering.Hash (12 hex)
//	{ext}     Format.Ext(), "jpg" or "png"
//	{hash}    FullHash: 32 hex digits of every field above
//
// A template must contain {hash}, or all of {appid} {page} {scene}
// {params} {ext}; placeholders must be separated by a literal containing
// '.' or '/'; {params} must directly follow {appid}, {page}, {scene} or
// {hash}; literals use only [A-Za-z0-9_./-]; no segment may be empty or
// start with '.'; a template may not start with RunsPrefix ("_runs/", where
// runs keep their manifests). ParseKeyTemplate enforces all of this, so two different
// codes can never share a key: values never contain '.' or '/', so the key
// splits back into its values.
//
// The rendering is "default" (no {params} hash) when width is 0 or 430,
// env_version is "" or "release", auto_color is false, line_color is nil or
// {0,0,0} and is_hyaline is false; spelling a default out explicitly gives
// the same key. Anything else adds "~p<hash>" so a 1280 px or trial code
// never replaces the default one.
//
// # Segment encoding
//
// A scene may hold up to 32 of [A-Za-z0-9!#$&'()*+,/:;=?@-._~], so "../",
// "/", "%2e%2e", "?#" and "................................" are all legal
// scenes, and pages contain '/'. EncodeSegment makes any byte string one
// safe path segment:
//
//   - A-Z a-z 0-9 '-' '_' are copied;
//   - every other byte b (including '.', '/', '%', '~', and each byte of
//     UTF-8) becomes "~" followed by two upper-case hex digits: "." is
//     "~2E", "/" is "~2F", "~" is "~7E";
//   - the empty string becomes "~".
//
// So "../" is "~2E~2E~2F", "%2e%2e" is "~252e~252e", "?#" is "~3F~23",
// 32 dots are 32 "~2E", and "pages/index/index" is "pages~2Findex~2Findex".
// The output is never empty, never contains '.' or '/', hence is never "."
// or "..", cannot climb out of a directory and cannot create one.
// DecodeSegment reverses it and accepts only this canonical form (no
// lower-case hex, no escaped literal), so encoding is injective. The "~p"
// of {params} cannot occur inside an encoded value ('~' is always followed
// by a hex digit or ends an empty value).
//
// Case: keys differ by case ("Scene" vs "scene"), as they do on S3. On a
// case-insensitive file system (macOS and Windows defaults) two such scenes
// would share one local file; keep local stores on a case-sensitive file
// system (Linux) or use {hash} keys there. Windows device names (CON, NUL)
// are not escaped either.
//
// # Metadata
//
// Metadata returns the standard set, all printable ASCII. appid, page,
// scene, env-version, format and sha256 are stored as given when they are
// non-empty printable ASCII without spaces (every valid appid and scene,
// and ASCII pages), which every S3 server keeps byte for byte; any other
// value (a non-ASCII page, the empty home page) passes through
// EncodeSegment and is listed in the "encoded" entry (comma-separated, or
// "none"). Objects stored before the "encoded" entry existed have all six
// encoded; MetaText and StoredCodeOf read both forms. width is decimal
// after defaults; generated-at is RFC 3339 UTC with nanoseconds; params is
// code.Rendering.Canonical (every rendering parameter, e.g.
// "env=release;width=430;auto_color=false;line_color=0,0,0;is_hyaline=false");
// params-hash is code.Rendering.Hash or "default".
//
// # Key rules
//
// CheckKey is what every backend accepts; CheckCodeKey adds that no code
// is stored under RunsPrefix, and is what an explicit key of an input row
// must pass (at enqueue and in the worker); CheckValue says whether an
// appid, page or scene fits one key segment once encoded. Stores accept metadata keys of [a-z0-9-] and printable ASCII
// values without surrounding spaces, at most 2 KiB in all, the same rules
// on every backend.
//
// # Local directory layout
//
// The local backend opens its directory with os.Root, so no key, symlink
// or ".." can reach outside it. An object is the file <dir>/<key>, bytes
// unchanged (a web server can serve the tree directly). Its content type
// and metadata are JSON in the hidden sidecar "<dir>/<key dir>/.<name>.meta.json";
// writes go through hidden ".tmp-<random>" files in the same directory,
// fsynced, then renamed (or hard-linked for IfAbsent, which fails
// atomically when the key exists). CheckKey refuses every key with a
// segment starting with '.', so sidecars and temporary files can never
// collide with an object. A crash can leave a stray ".tmp-*" file, or an
// object whose sidecar is missing (Stat then sniffs the content type and
// reports no metadata). A key cannot also be a directory of other keys
// ("a.jpg" and "a.jpg/b"); templates never produce that since directory
// segments hold no '.' while object names end in ".{ext}".
package storage
