pub async fn fine() -> u32 {
    1
}

pub async fn broken() -> u32 {
    let x: u32 = "not a number";
    x
}
