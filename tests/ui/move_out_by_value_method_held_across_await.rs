async fn tick() {}

struct Response(String);

impl Response {
    fn text(self) -> String {
        self.0
    }
}

#[unasync::desugar]
async fn f(resp: Response) -> String {
    tick().await;
    resp.text()
}

fn main() {}
