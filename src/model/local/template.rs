//! Chat templates from the model's metadata, rendered with minijinja (Jinja2 semantics, plus
//! Python's string methods that templates call: `.strip()`, `.startswith()`, ...).

use anyhow::anyhow;
use minijinja::{Environment, Error, ErrorKind, context};

/// The text of a one-turn conversation up to where the assistant's answer begins.
pub(crate) fn render(template: &str, user: &str, bos: &str, eos: &str) -> anyhow::Result<String> {
    let mut env = Environment::new();
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.add_function("raise_exception", |message: String| -> Result<String, Error> {
        Err(Error::new(ErrorKind::InvalidOperation, message))
    });
    env.add_template("chat", template).map_err(|e| anyhow!("the model's chat template does not parse: {e}"))?;
    let t = env.get_template("chat").map_err(|e| anyhow!("{e}"))?;
    t.render(context! {
        messages => vec![context! { role => "user", content => user }],
        add_generation_prompt => true,
        bos_token => bos,
        eos_token => eos,
    })
    .map_err(|e| anyhow!("rendering the model's chat template: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_chatml_and_python_methods() {
        // SmolLM2-Instruct's template, as its GGUF carries it.
        let smol = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";
        assert_eq!(
            render(smol, "hi", "", "").unwrap(),
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
        );
        let pythonic = "{{ bos_token }}{% for m in messages %}{{ m.content.strip() | upper }}{% if m.content.startswith(' ') %}!{% endif %}{% endfor %}";
        assert_eq!(render(pythonic, " hi ", "<s>", "").unwrap(), "<s>HI!");
        let raising = "{{ raise_exception('only user and assistant roles') }}";
        assert!(render(raising, "x", "", "").unwrap_err().to_string().contains("only user and assistant"));
        assert!(render("{% for %}", "x", "", "").is_err());
    }
}
