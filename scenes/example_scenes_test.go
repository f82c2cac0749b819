package scenes_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"

	"github.com/redis/go-redis/v9"

	"github.com/wxacode/wxacode/internal/redistest"
	"github.com/wxacode/wxacode/scenes"
)

// A poster campaign keeps its long parameters server-side and prints a
// short scene; the mini-program resolves it over HTTP.
func Example() {
	dir, _ := os.MkdirTemp("", "scenes-example")
	defer os.RemoveAll(dir)
	srv, err := redistest.StartProcess(dir) // any Redis with AOF in production
	if err != nil {
		panic(err)
	}
	defer srv.Stop()
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	ctx := context.Background()

	store, err := scenes.New(rdb, scenes.Config{Prefix: "p"})
	if err != nil {
		panic(err)
	}
	fmt.Println(store.CheckPersistence(ctx) != nil) // this test Redis saves nothing

	params := `{"shop":"上海静安店","campaign":"spring-2026","ref":"a=1&b=2"}`
	scene, err := store.Issue(ctx, []byte(params)) // pass scene to wxa/getwxacodeunlimit
	if err != nil {
		panic(err)
	}
	same, _ := store.Issue(ctx, []byte(`{"ref":"a=1&b=2", "campaign":"spring-2026", "shop":"上海静安店"}`))
	fmt.Println(scene, len(scene), same == scene)

	// In the mini-program:
	//   const scene = decodeURIComponent(options.scene)
	//   wx.request({url: 'https://api.example.com/s/' + encodeURIComponent(scene)})
	api := httptest.NewServer(scenes.Handler(store, scenes.HandlerConfig{}))
	defer api.Close()
	resp, err := http.Get(api.URL + "/s/" + url.PathEscape(scene))
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output:
	// true
	// pmYo3xjvEdC 11 true
	// 200 {"campaign":"spring-2026","ref":"a=1&b=2","shop":"上海静安店"}
}
