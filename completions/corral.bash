# bash completion for corral(1): the verbs, each verb's options, and files
# where a verb takes a mission file or a directory. Installed as
# share/bash-completion/completions/corral; source it to try it by hand.

_corral_verbs="run validate submit ls show logs events approve reject answer
pause resume cancel costs gc daemon agent sandbox doctor export import replay
help"

# The options of one verb (its --help is the source of truth).
_corral_opts() {
  local common="--help --version"
  case $1 in
  run) echo "$common --state-dir --jobs --json --quiet --ci --out --replay-llm" ;;
  validate) echo "$common" ;;
  submit) echo "$common --socket --json" ;;
  ls) echo "$common --socket --json" ;;
  show) echo "$common --state-dir --socket --json --trace" ;;
  logs) echo "$common --state-dir --socket --mission --all --follow -f" ;;
  events) echo "$common --socket --json --follow -f --since --mission --count" ;;
  approve) echo "$common --state-dir --socket --json --mission" ;;
  reject) echo "$common --state-dir --socket --json --mission --feedback" ;;
  answer) echo "$common --socket --json --mission" ;;
  pause) echo "$common --socket --json" ;;
  resume) echo "$common --state-dir --socket --json --mission --turns" ;;
  agent) echo "$common" ;;
  cancel) echo "$common --socket --json --task --mission" ;;
  costs) echo "$common --state-dir --socket --json --mission --by" ;;
  gc) echo "$common --state-dir --mission --dry-run --force --json" ;;
  daemon) echo "$common --socket --state-dir --group --jobs --stop-agents" ;;
  sandbox) echo "$common --profile --dir --home-dir --keep-fd --verbose" ;;
  doctor) echo "$common --json" ;;
  export) echo "$common --state-dir --trace --format --output -o" ;;
  import) echo "$common --state-dir --as" ;;
  replay) echo "$common --agents --jobs --work-dir --replay-llm --no-verify --json" ;;
  esac
}

_corral() {
  local cur prev verb= i
  COMPREPLY=()
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD - 1]}
  for ((i = 1; i < COMP_CWORD; i++)); do
    if [[ ${COMP_WORDS[i]} != -* ]]; then
      verb=${COMP_WORDS[i]}
      break
    fi
  done
  if [[ -z $verb ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$_corral_verbs --help --version" -- "$cur")
    return
  fi
  case $prev in
  --state-dir | --dir | --home-dir | --out | --work-dir)
    mapfile -t COMPREPLY < <(compgen -d -- "$cur")
    return
    ;;
  --socket | --trace | --output | -o | --replay-llm)
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    return
    ;;
  --by)
    mapfile -t COMPREPLY < <(compgen -W "mission ticket task run agent" -- "$cur")
    return
    ;;
  --format)
    mapfile -t COMPREPLY < <(compgen -W "trace otel atif junit md" -- "$cur")
    return
    ;;
  --profile)
    mapfile -t COMPREPLY < <(compgen -W "agent strict network none" -- "$cur")
    return
    ;;
  --jobs | --since | --count | --mission | --task | --feedback | --group | --as | --turns)
    return
    ;;
  esac
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_corral_opts "$verb")" -- "$cur")
  elif [[ $verb == run || $verb == validate || $verb == submit ]]; then
    mapfile -t COMPREPLY < <(compgen -f -X '!*.@(yaml|yml|json)' -- "$cur"; compgen -d -- "$cur")
  elif [[ $verb == import || $verb == replay ]]; then
    mapfile -t COMPREPLY < <(compgen -f -X '!*.corral' -- "$cur"; compgen -d -- "$cur")
  fi
}
complete -F _corral corral
