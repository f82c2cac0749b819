// Package scenes puts long parameters behind a short, safe scene.
//
// The scene of interface B holds at most 32 characters of a restricted
// alphabet, and '&', '=' and '%' are trouble (see wechat.ValidateScene). So
// teams keep the real parameters server-side and print a short key: the
// mini-program reads decodeURIComponent(options.scene) and fetches
// GET /s/{scene} from Handler to get the parameters back.
//
// # Scenes
//
// Parameters are a JSON object, reduced to a canonical form (Canonical:
// sorted keys, no whitespace, minimal escaping), so that the same object
// written differently is the same row. Its scene is Config.Prefix followed
// by Config.Length base62 characters ([0-9A-Za-z]) of SHA-256 of the
// canonical bytes. If another row already holds that scene, the next
// deterministic candidate is tried: base62 of SHA-256(digest || k) for
// k = 1, 2, ... up to 64 candidates, then an *ExhaustedError. With the
// default Length 10 a second candidate is practically never needed; with a
// tiny Length scenes stay distinct, but which row gets which candidate
// depends on the order rows were first issued.
//
// A scene, once issued, maps to the same parameters forever, and the same
// parameters always get the same scene (the first mapping wins, whatever
// Prefix and Length say later, and imported mappings are kept as they are).
//
// # Redis keys
//
// One issue.lua call checks the params key and claims the first free
// candidate with SET NX, writing both directions in one atomic step:
//
//	<KeyPrefix>{scenes}:s:<scene>         canonical params
//	<KeyPrefix>{scenes}:p:<sha256 hex>    scene
//
// Every key of a store carries the hash tag {scenes} after KeyPrefix, so on
// Redis Cluster each script call (the params key plus up to 64 candidate
// keys) and each MGET of Export stays on one slot. The price is that a store
// lives on one Cluster node: about 300 bytes of Redis per mapping plus its
// canonical params, so tens of millions of small rows fit one node. The
// first {...} of a key is its tag, so a platform with several stores spreads
// them over the Cluster by putting a tag of its own in each KeyPrefix, e.g.
// "wxacode:{app1}:scenes:" and "wxacode:{app2}:scenes:".
//
// IssueMany and Import pipeline their script calls, Config.BatchSize rows
// per round trip, so 100,000 rows take seconds.
//
// # Durability
//
// The keys have no TTL: codes are printed and scanned for years. Run the
// Redis with AOF (appendonly yes) and keep backups (Export writes one);
// CheckPersistence reports a Redis that saves nothing. A lost mapping
// cannot be rebuilt from a printed code.
//
// # Privacy
//
// The resolver is public and unauthenticated by design: anyone who holds a
// code can read its parameters. Never put secrets in them. Scenes are hashes
// of the parameters, so with low-entropy parameters (say {"id":1}) anyone
// who knows this scheme can compute the scene from guessed parameters;
// that only reveals parameters the guesser already knows.
package scenes
