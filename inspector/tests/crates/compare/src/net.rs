pub struct Conn {
    pub pos: u32,
}

impl Conn {
    #[inline]
    pub async fn read(&mut self) -> u32 {
        crate::yield_now().await;
        self.pos += 1;
        self.pos
    }
}

impl crate::Service for Conn {
    async fn call(&self, x: u32) -> u32 {
        crate::leaf(x + self.pos).await
    }
}

pub async fn use_conn() -> u32 {
    let mut c = Conn { pos: 0 };
    c.read().await + c.read().await
}
