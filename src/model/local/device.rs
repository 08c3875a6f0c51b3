//! Where the model runs: on the GPU when this build has GPU support (the `cuda` or `metal`
//! feature) and a usable device is present, otherwise on the CPU, with one line that says which and
//! why. A missing driver or library is a reason to use the CPU, never a crash: the CUDA libraries
//! are looked for before candle is asked for the device (candle's loader panics on a missing one).
//!
//! `$PLUMB_DEVICE` (`auto`, `cpu`, `gpu`) chooses; `auto` (the default) takes the GPU when there
//! is one.

use candle_core::Device;

/// What the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    /// `$PLUMB_DEVICE`, else the GPU when one is usable.
    #[default]
    Auto,
    Cpu,
    Gpu,
}

impl DeviceChoice {
    /// `auto`, `cpu` or `gpu` (`cuda` and `metal` are read as `gpu`).
    pub fn parse(s: &str) -> Option<DeviceChoice> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Some(DeviceChoice::Auto),
            "cpu" => Some(DeviceChoice::Cpu),
            "gpu" | "cuda" | "metal" => Some(DeviceChoice::Gpu),
            _ => None,
        }
    }
}

/// The device chosen, and a line for people: `gpu (CUDA device 0)`, `cpu (...why...)`. Chosen once
/// per process and choice (finding a GPU opens libraries and a device context).
pub(crate) fn select(choice: DeviceChoice) -> (Device, String) {
    static CHOSEN: [std::sync::OnceLock<(Device, String)>; 3] =
        [std::sync::OnceLock::new(), std::sync::OnceLock::new(), std::sync::OnceLock::new()];
    CHOSEN[choice as usize].get_or_init(|| choose(choice)).clone()
}

fn choose(choice: DeviceChoice) -> (Device, String) {
    let (choice, bad_env) = match choice {
        DeviceChoice::Auto => match std::env::var("PLUMB_DEVICE") {
            Ok(v) => match DeviceChoice::parse(&v) {
                Some(c) => (c, None),
                None => (DeviceChoice::Auto, Some(format!("PLUMB_DEVICE={v:?} is not auto, cpu or gpu; "))),
            },
            Err(_) => (DeviceChoice::Auto, None),
        },
        c => (c, None),
    };
    let bad_env = bad_env.unwrap_or_default();
    if choice == DeviceChoice::Cpu {
        return (Device::Cpu, format!("cpu ({bad_env}the CPU was asked for)"));
    }
    match gpu() {
        Ok((device, what)) => (device, format!("gpu ({bad_env}{what})")),
        Err(why) if choice == DeviceChoice::Gpu => (Device::Cpu, format!("cpu: the GPU was asked for, but {why}")),
        Err(why) if cfg!(any(feature = "cuda", feature = "metal")) => (Device::Cpu, format!("cpu ({bad_env}{why})")),
        Err(_) => {
            (Device::Cpu, format!("cpu{}", if bad_env.is_empty() { String::new() } else { format!(" ({bad_env})") }))
        }
    }
}

#[cfg(feature = "cuda")]
fn gpu() -> Result<(Device, String), String> {
    // What candle opens to make a CUDA device: the driver, cuBLAS (with cuBLASLt) and cuRAND,
    // each with a function it calls first (a library without it is not the real one).
    for (lib, symbol, what) in [
        ("cuda", "cuInit", "the NVIDIA driver"),
        ("cublas", "cublasCreate_v2", "cuBLAS"),
        ("cublasLt", "cublasLtCreate", "cuBLASLt"),
        ("curand", "curandCreateGenerator", "cuRAND"),
    ] {
        if !loadable(lib, symbol) {
            return Err(format!(
                "no usable GPU: {what} (lib{lib}.so) was not found; install the NVIDIA driver and CUDA 13 \
                 libraries, or put their folder on LD_LIBRARY_PATH"
            ));
        }
    }
    match std::panic::catch_unwind(|| Device::new_cuda(0)) {
        Ok(Ok(device)) => Ok((device, "CUDA device 0".into())),
        Ok(Err(e)) => Err(format!("no usable GPU: {}", first_line(&e.to_string()))),
        Err(_) => Err("no usable GPU: the CUDA libraries failed to start".into()),
    }
}

#[cfg(feature = "cuda")]
#[allow(unsafe_code)]
fn loadable(lib: &str, symbol: &str) -> bool {
    // The names cudarc tries, most specific last.
    ["", ".13", ".12", ".11", ".10", ".9", ".1"].iter().any(|suffix| {
        let name = format!("lib{lib}.so{suffix}");
        // SAFETY: opening a library runs its initialisers. These are the vendor's CUDA libraries,
        // which candle opens the same way to use the GPU; opening them first only turns a missing
        // one into a message instead of a panic. Only the symbol's presence is read; nothing is
        // called. The handle is closed again at once.
        unsafe {
            libloading::Library::new(&name).is_ok_and(|l| l.get::<unsafe extern "C" fn()>(symbol.as_bytes()).is_ok())
        }
    })
}

#[cfg(all(feature = "metal", not(feature = "cuda")))]
fn gpu() -> Result<(Device, String), String> {
    Device::new_metal(0)
        .map(|d| (d, "Metal device 0".into()))
        .map_err(|e| format!("no usable GPU: {}", first_line(&e.to_string())))
}

#[cfg(not(any(feature = "cuda", feature = "metal")))]
fn gpu() -> Result<(Device, String), String> {
    Err("this plumb was built without GPU support (see the README, \"GPU\")".into())
}

#[cfg(any(feature = "cuda", feature = "metal"))]
fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_parse_and_the_cpu_is_always_there() {
        assert_eq!(DeviceChoice::parse("CUDA"), Some(DeviceChoice::Gpu));
        assert_eq!(DeviceChoice::parse(""), Some(DeviceChoice::Auto));
        assert_eq!(DeviceChoice::parse("tpu"), None);
        let (device, line) = select(DeviceChoice::Cpu);
        assert!(device.is_cpu() && line.starts_with("cpu"), "{line}");
        // Asking for a GPU where none is usable gives the CPU and says why, never an error.
        let (device, line) = select(DeviceChoice::Gpu);
        if device.is_cpu() {
            assert!(line.starts_with("cpu: the GPU was asked for, but "), "{line}");
        } else {
            assert!(line.starts_with("gpu ("), "{line}");
        }
    }
}
