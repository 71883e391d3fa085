//! `etcdsim completions SHELL` and `etcdsim man`: shell completions and a man page, generated
//! from the clap definitions themselves so that they cannot drift from the flags.

use clap::{Args, CommandFactory, ValueEnum};

use crate::error::Error;
use crate::runner::console::emit;

/// A shell whose completions etcdsim writes.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShellArg {
    /// bash: `etcdsim completions bash > ~/.local/share/bash-completion/completions/etcdsim`.
    Bash,
    /// zsh: `etcdsim completions zsh > ~/.zfunc/_etcdsim` (with ~/.zfunc in fpath).
    Zsh,
    /// fish: `etcdsim completions fish > ~/.config/fish/completions/etcdsim.fish`.
    Fish,
    /// PowerShell.
    Powershell,
    /// Elvish.
    Elvish,
}

/// Arguments of `etcdsim completions`.
#[derive(Args, Debug, Clone)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: ShellArg,
}

impl CompletionsArgs {
    /// Writes the completion script to standard output.
    pub fn run(&self) -> Result<(), Error> {
        emit(&mut std::io::stdout().lock(), &completions(self.shell))
    }
}

/// The completion script for `shell`.
pub fn completions(shell: ShellArg) -> String {
    use clap_complete::Shell;
    let shell = match shell {
        ShellArg::Bash => Shell::Bash,
        ShellArg::Zsh => Shell::Zsh,
        ShellArg::Fish => Shell::Fish,
        ShellArg::Powershell => Shell::PowerShell,
        ShellArg::Elvish => Shell::Elvish,
    };
    let mut cmd = super::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "etcdsim", &mut out);
    // clap_complete writes UTF-8; a lossy conversion only guards against a bug there.
    String::from_utf8_lossy(&out).into_owned()
}

/// Arguments of `etcdsim man`.
#[derive(Args, Debug, Clone)]
pub struct ManArgs {}

impl ManArgs {
    /// Writes the man page (roff) to standard output.
    pub fn run(&self) -> Result<(), Error> {
        emit(&mut std::io::stdout().lock(), &man_page()?)
    }
}

/// The man page of etcdsim, in roff: the top-level page, then a section per command (its
/// synopsis, description and options as subsections), so that one page (`man ./etcdsim.1`)
/// holds every flag.
pub fn man_page() -> Result<String, Error> {
    let fail = |e: std::io::Error| Error::Internal(format!("the man page: {e}"));
    let cmd = super::Cli::command();
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut out)
        .map_err(fail)?;
    let mut page = String::from_utf8_lossy(&out).into_owned();
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("etcdsim {}", sub.get_name());
        let mut sub = sub
            .clone()
            .display_name(name.clone())
            .bin_name(name.clone());
        sub.build();
        let man = clap_mangen::Man::new(sub);
        let mut part = Vec::new();
        man.render_synopsis_section(&mut part)
            .and_then(|()| man.render_description_section(&mut part))
            .and_then(|()| man.render_options_section(&mut part))
            .map_err(fail)?;
        page.push_str(&format!(".SH \"{}\"\n", name.to_uppercase()));
        // Each command's own sections become subsections of its section.
        for line in String::from_utf8_lossy(&part).lines() {
            match line.strip_prefix(".SH ") {
                Some(title) => page.push_str(&format!(".SS {title}\n")),
                None => page.push_str(&format!("{line}\n")),
            }
        }
    }
    Ok(page)
}
