package wechat_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/wxacode/wxacode/code"
	"github.com/wxacode/wxacode/wechat"
	"github.com/wxacode/wxacode/wechat/wechattest"
)

// A worker's view: a stable token source and interface B against the fake.
func ExampleClient_CodeUnlimited() {
	fake := wechattest.New(wechattest.Options{Apps: map[string]string{"wxexample0000001": "example-secret"}})
	srv := httptest.NewServer(fake)
	defer srv.Close()

	client := wechat.NewClient(wechat.Config{BaseURL: srv.URL})
	tokens, err := wechat.NewStableTokenSource(wechat.StableTokenConfig{
		AppID: "wxexample0000001", Secret: "example-secret", Client: client,
	})
	if err != nil {
		panic(err)
	}
	img, err := client.CodeUnlimited(context.Background(), tokens, code.Params{Scene: "order=42&src=poster", Rendering: code.Rendering{IsHyaline: true}})
	switch {
	case wechat.IsRateLimited(err):
		fmt.Println("pause the app until the next minute")
	case wechat.IsPermanent(err):
		fmt.Println("record the failure:", err)
	case err != nil:
		fmt.Println("retry later:", err)
	default:
		c, _ := wechattest.DecodeImage(img.Data)
		fmt.Println(img.Format, img.Format.ContentType(), c.Scene)
	}
	// Output: png image/png order=42&src=poster
}
