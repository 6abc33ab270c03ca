// LocalLlm's C surface over llama.cpp's chat layer (common/chat.h in the pinned source, the code llama-server runs):
// the model's Jinja template with tool, schema and reasoning handling, the reply parser, and JSON schema to GBNF.
//
// Built by build/native/acquire-native.sh with the system g++ against the pinned source's headers and linked to the
// prebuilt libllama-common.so. Small and boring on purpose: UTF-8 JSON in and out, a status code and an error string,
// no C++ exception crosses the boundary, no state but what the caller holds a handle to. All policy lives in C#.

#include "chat.h"
#include "fit.h"
#include "llama-ext.h"
#include "json-schema-to-grammar.h"
#include "log.h"
#include "reasoning-budget.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

namespace {

// Bumped whenever a function's signature or a JSON field changes; the managed side refuses any other value.
constexpr int k_abi_version = 4;

char * copy_string(const std::string & text) {
    char * copy = static_cast<char *>(std::malloc(text.size() + 1));
    if (copy != nullptr) {
        std::memcpy(copy, text.data(), text.size());
        copy[text.size()] = '\0';
    }
    return copy;
}

// Runs body, turning any exception into status 1 and its message into *error.
template <typename Body> int guarded(char ** error, Body && body) {
    if (error != nullptr) {
        *error = nullptr;
    }
    try {
        body();
        return 0;
    } catch (const std::exception & e) {
        if (error != nullptr) {
            *error = copy_string(e.what());
        }
    } catch (...) {
        if (error != nullptr) {
            *error = copy_string("unknown C++ exception");
        }
    }
    return 1;
}

common_reasoning_format reasoning_format_of(const common_json & j) {
    return j.contains("reasoning_format") ? common_reasoning_format_from_name(j.at("reasoning_format").get<std::string>())
                                          : COMMON_REASONING_FORMAT_AUTO;
}

// The model and context settings the memory functions take as JSON; each field optional, llama.cpp's default otherwise.
llama_model_params model_params_from(const common_json & params) {
    llama_model_params mparams = llama_model_default_params();
    mparams.n_gpu_layers = params.value("n_gpu_layers", mparams.n_gpu_layers);
    mparams.main_gpu     = params.value("main_gpu", mparams.main_gpu);
    mparams.split_mode   = static_cast<llama_split_mode>(params.value("split_mode", static_cast<int>(mparams.split_mode)));
    return mparams;
}

llama_context_params context_params_from(const common_json & params) {
    llama_context_params cparams = llama_context_default_params();
    cparams.n_ctx           = params.value("n_ctx", cparams.n_ctx);
    cparams.n_batch         = params.value("n_batch", cparams.n_batch);
    cparams.n_ubatch        = params.value("n_ubatch", cparams.n_ubatch);
    cparams.n_seq_max       = params.value("n_seq_max", cparams.n_seq_max);
    cparams.kv_unified      = params.value("kv_unified", cparams.kv_unified);
    cparams.type_k          = static_cast<ggml_type>(params.value("type_k", static_cast<int>(cparams.type_k)));
    cparams.type_v          = static_cast<ggml_type>(params.value("type_v", static_cast<int>(cparams.type_v)));
    cparams.flash_attn_type = static_cast<llama_flash_attn_type>(params.value("flash_attn_type", static_cast<int>(cparams.flash_attn_type)));
    return cparams;
}

}  // namespace

struct localllm_chat_templates {
    common_chat_templates_ptr templates;
};

struct localllm_chat_parser {
    common_chat_parser_params params;
};

// Only these functions leave the library (it is compiled with -fvisibility=hidden).
#pragma GCC visibility push(default)
extern "C" {

int localllm_chat_abi_version(void) {
    return k_abi_version;
}

void localllm_chat_string_free(char * text) {
    std::free(text);
}

// Sends the chat layer's own log lines (template warnings, unparsed output) to nowhere above the given verbosity;
// the managed side reports failures through return values instead.
void localllm_chat_set_log_verbosity(int verbosity) {
    common_log_set_verbosity_thold(verbosity);
}

// template_override: null or empty for the model's own template (ChatML when it has none), else Jinja text or the name
// of a llama.cpp built-in family. model may be null only with an override; bos/eos then come from bos_token/eos_token.
int localllm_chat_templates_init(const llama_model * model, const char * template_override, const char * bos_token,
                                 const char * eos_token, localllm_chat_templates ** out, char ** error) {
    *out = nullptr;
    return guarded(error, [&] {
        std::string override_text = template_override != nullptr ? template_override : "";
        if (model == nullptr && override_text.empty()) {
            throw std::invalid_argument("a template text is needed when no model is given");
        }
        // common_chat_templates_init rethrows a parse error as a bare std::exception, losing its message: parse the
        // template here first so that a syntax error reaches the caller with the parser's own words.
        std::string source = override_text;
        if (source.empty()) {
            const char * own = llama_model_chat_template(model, nullptr);
            source           = own != nullptr ? own : "";
        }
        if (!source.empty()) {
            common_chat_template check(source, "", "");
        }

        auto templates = std::make_unique<localllm_chat_templates>();
        templates->templates = common_chat_templates_init(model, override_text, bos_token != nullptr ? bos_token : "",
                                                          eos_token != nullptr ? eos_token : "");
        *out = templates.release();
    });
}

void localllm_chat_templates_free(localllm_chat_templates * templates) {
    delete templates;
}

// {"source": the template text in use, "tool_use_source": the tool-use variant or "", "was_explicit": bool,
//  "caps": {"supports_tools": bool, ...}}
int localllm_chat_templates_describe(const localllm_chat_templates * templates, char ** out_json, char ** error) {
    *out_json = nullptr;
    return guarded(error, [&] {
        common_json result = common_json::object();
        result["source"]          = common_chat_templates_source(templates->templates.get());
        result["tool_use_source"] = common_chat_templates_source(templates->templates.get(), "tool_use");
        result["was_explicit"]    = common_chat_templates_was_explicit(templates->templates.get());
        common_json caps          = common_json::object();
        for (const auto & [name, value] : common_chat_templates_get_caps(templates->templates.get())) {
            caps[name] = value;
        }
        result["caps"] = caps;
        *out_json      = copy_string(result.dump());
    });
}

// inputs_json: {"messages": [OpenAI chat messages], "tools": [OpenAI tools], "tool_choice": "auto"|"required"|"none",
//  "parallel_tool_calls": bool, "json_schema": object, "add_generation_prompt": bool,
//  "use_jinja": bool, "reasoning_format": "auto"|"none"|"deepseek"|"deepseek-legacy", "enable_thinking": bool,
//  "chat_template_kwargs": {name: JSON text}}; every field but messages is optional. (llama.cpp's inputs.now is not
//  sent: the pinned version reads the clock instead, so the managed side passes a date as template variables.)
// out_json: common_chat_params as JSON (see the managed NativeChatLayer for the fields).
int localllm_chat_templates_apply(const localllm_chat_templates * templates, const char * inputs_json, char ** out_json,
                                  char ** error) {
    *out_json = nullptr;
    return guarded(error, [&] {
        common_json request = common_json::parse(inputs_json);

        common_chat_templates_inputs inputs;
        inputs.messages = common_chat_msgs_parse_oaicompat(request.at("messages"));
        if (request.contains("tools") && !request.at("tools").is_null()) {
            inputs.tools = common_chat_tools_parse_oaicompat(request.at("tools"));
        }
        inputs.tool_choice           = common_chat_tool_choice_parse_oaicompat(request.value("tool_choice", "auto"));
        inputs.parallel_tool_calls   = request.value("parallel_tool_calls", false);
        inputs.add_generation_prompt = request.value("add_generation_prompt", true);
        inputs.use_jinja             = request.value("use_jinja", true);
        inputs.enable_thinking       = request.value("enable_thinking", true);
        inputs.reasoning_format      = reasoning_format_of(request);
        if (request.contains("json_schema") && !request.at("json_schema").is_null()) {
            inputs.json_schema = request.at("json_schema").dump();
        }
        if (request.contains("chat_template_kwargs")) {
            for (const auto & [name, value] : request.at("chat_template_kwargs").items()) {
                inputs.chat_template_kwargs[name] = value.get<std::string>();
            }
        }

        common_chat_params params = common_chat_templates_apply(templates->templates.get(), inputs);

        common_json result = common_json::object();
        result["format"]             = static_cast<int>(params.format);
        result["format_name"]        = common_chat_format_name(params.format);
        result["prompt"]             = params.prompt;
        result["grammar"]            = params.grammar;
        result["grammar_lazy"]       = params.grammar_lazy;
        result["generation_prompt"]  = params.generation_prompt;
        result["supports_thinking"]  = params.supports_thinking;
        result["thinking_start_tag"] = params.thinking_start_tag;
        result["thinking_end_tags"]  = params.thinking_end_tags;
        result["preserved_tokens"]   = params.preserved_tokens;
        result["additional_stops"]   = params.additional_stops;
        result["parser"]             = params.parser;
        common_json triggers         = common_json::array();
        for (const auto & trigger : params.grammar_triggers) {
            common_json item = common_json::object();
            item["type"]     = static_cast<int>(trigger.type);
            item["value"]    = trigger.value;
            item["token"]    = static_cast<int>(trigger.token);
            triggers.push_back(item);
        }
        result["grammar_triggers"] = triggers;
        *out_json                  = copy_string(result.dump());
    });
}

// params_json: {"format": int, "reasoning_format": name, "reasoning_in_content": bool, "generation_prompt": text,
//  "parse_tool_calls": bool, "parser": the serialized parser from localllm_chat_templates_apply}.
int localllm_chat_parser_init(const char * params_json, localllm_chat_parser ** out, char ** error) {
    *out = nullptr;
    return guarded(error, [&] {
        common_json request = common_json::parse(params_json);
        auto parser         = std::make_unique<localllm_chat_parser>();
        parser->params.format               = static_cast<common_chat_format>(request.value("format", 0));
        parser->params.reasoning_format     = reasoning_format_of(request);
        parser->params.reasoning_in_content = request.value("reasoning_in_content", false);
        parser->params.generation_prompt    = request.value("generation_prompt", "");
        parser->params.parse_tool_calls     = request.value("parse_tool_calls", true);
        std::string serialized              = request.value("parser", "");
        if (!serialized.empty()) {
            parser->params.parser.load(serialized);
        }
        *out = parser.release();
    });
}

void localllm_chat_parser_free(localllm_chat_parser * parser) {
    delete parser;
}

// Parses the text generated so far (is_partial: more may follow) into an OpenAI assistant message:
// {"role": "assistant", "content": text, "reasoning_content": text, "tool_calls": [{"id", "function": {"name",
//  "arguments"}}]}, fields absent when empty.
int localllm_chat_parser_parse(const localllm_chat_parser * parser, const char * text, size_t length, int is_partial,
                               char ** out_json, char ** error) {
    *out_json = nullptr;
    return guarded(error, [&] {
        common_chat_msg message = common_chat_parse(std::string(text, length), is_partial != 0, parser->params);
        *out_json               = copy_string(message.to_json_oaicompat().dump());
    });
}

// Converts a JSON schema to a GBNF grammar, as llama-server does for response_format.
int localllm_chat_json_schema_to_grammar(const char * schema_json, char ** out_grammar, char ** error) {
    *out_grammar = nullptr;
    return guarded(error, [&] { *out_grammar = copy_string(json_schema_to_grammar(common_json::parse(schema_json))); });
}

// llama.cpp's reasoning budget sampler: counts tokens between a start and an end sequence and, once the budget is
// spent, forces the forced sequence. Sequences arrive as token ids: end_tokens holds end_count sequences back to back,
// end_lengths their lengths. in_reasoning starts it inside the block (the prompt already opened it). Returns a sampler
// to free with llama_sampler_free, or null with *error set.
llama_sampler * localllm_chat_reasoning_budget_init(const llama_vocab * vocab, const int32_t * start_tokens,
                                                    size_t start_length, const int32_t * end_tokens,
                                                    const size_t * end_lengths, size_t end_count,
                                                    const int32_t * forced_tokens, size_t forced_length,
                                                    int32_t budget, int in_reasoning, char ** error) {
    llama_sampler * sampler = nullptr;
    guarded(error, [&] {
        std::vector<llama_tokens> starts;
        if (start_length > 0) {
            starts.emplace_back(start_tokens, start_tokens + start_length);
        }
        std::vector<llama_tokens> ends;
        for (size_t i = 0, offset = 0; i < end_count; offset += end_lengths[i], i++) {
            ends.emplace_back(end_tokens + offset, end_tokens + offset + end_lengths[i]);
        }
        llama_tokens forced(forced_tokens, forced_tokens + forced_length);
        sampler = common_reasoning_budget_init(vocab, starts, ends, forced, budget,
                                               in_reasoning != 0 ? REASONING_BUDGET_COUNTING : REASONING_BUDGET_IDLE);
        if (sampler == nullptr) {
            throw std::runtime_error("common_reasoning_budget_init returned null");
        }
    });
    return sampler;
}

// llama_sampler_accept with its C++ exceptions caught: a grammar throws when a token does not fit it.
int localllm_chat_sampler_accept(llama_sampler * sampler, int32_t token, char ** error) {
    return guarded(error, [&] { llama_sampler_accept(sampler, token); });
}

// 0 idle, 1 counting, 2 forcing, 3 waiting for a character to complete, 4 done; mapped by name, so a reordered
// common_reasoning_budget_state cannot change what the managed side reads.
int localllm_chat_reasoning_budget_state(const llama_sampler * sampler) {
    switch (common_reasoning_budget_get_state(sampler)) {
        case REASONING_BUDGET_IDLE:         return 0;
        case REASONING_BUDGET_COUNTING:     return 1;
        case REASONING_BUDGET_FORCING:      return 2;
        case REASONING_BUDGET_WAITING_UTF8: return 3;
        case REASONING_BUDGET_DONE:         return 4;
    }
    return -1;
}

// Copies the end sequence that closed the block into tokens (up to capacity) and returns its length; 0 when none.
size_t localllm_chat_reasoning_budget_end_match(const llama_sampler * sampler, int32_t * tokens, size_t capacity) {
    const llama_tokens * match = common_reasoning_budget_get_end_match(sampler);
    if (match == nullptr) {
        return 0;
    }
    for (size_t i = 0; i < match->size() && i < capacity; i++) {
        tokens[i] = (*match)[i];
    }
    return match->size();
}

// What a model and a context would take on each device, without allocating: the model is read with no_alloc (the
// header and tensor shapes only) and the context sized, as llama-server's --fit does, but every buffer is counted:
// the CPU's extra buffer types (weights repacked for the CPU) go to the host, which --fit leaves out because it
// assumes system memory is unlimited. params_json: n_gpu_layers, main_gpu, split_mode, n_ctx, n_batch, n_ubatch, n_seq_max,
// kv_unified, type_k, type_v, flash_attn_type (each optional; llama.cpp's defaults otherwise). out_json: n_layer,
// n_ctx_train, devices[] of {name, total, free, model, context, compute} in bytes, the host (CPU) last.
int localllm_memory_estimate(const char * model_path, const char * params_json, char ** out_json, char ** error) {
    *out_json = nullptr;
    return guarded(error, [&] {
        const common_json params = common_json::parse(params_json);
        llama_model_params mparams = model_params_from(params);
        mparams.no_alloc  = true;
        mparams.load_mode = LLAMA_LOAD_MODE_NONE;  // a no_alloc load maps nothing; llama.cpp asserts otherwise
        llama_context_params cparams = context_params_from(params);

        std::unique_ptr<llama_model, decltype(&llama_model_free)> model(llama_model_load_from_file(model_path, mparams), llama_model_free);
        if (!model) {
            throw std::runtime_error("llama.cpp could not read the model (see its log)");
        }
        std::unique_ptr<llama_context, decltype(&llama_free)> ctx(llama_init_from_model(model.get(), cparams), llama_free);
        if (!ctx) {
            throw std::runtime_error("llama.cpp could not size a context with these settings (see its log)");
        }

        const int n_devices = llama_model_n_devices(model.get());
        std::vector<llama_memory_breakdown_data> use(n_devices + 1);
        for (const auto & [buft, mb] : llama_get_memory_breakdown(ctx.get())) {
            ggml_backend_dev_t dev = ggml_backend_buft_get_device(buft);
            int index = n_devices;  // host memory, the CPU's extra buffer types included
            if (!ggml_backend_buft_is_host(buft) && dev != nullptr && ggml_backend_dev_type(dev) != GGML_BACKEND_DEVICE_TYPE_CPU) {
                for (int i = 0; i < n_devices; i++) {
                    if (llama_model_get_device(model.get(), i) == dev) {
                        index = i;
                    }
                }
            }
            use[index].model   += mb.model;
            use[index].context += mb.context;
            use[index].compute += mb.compute;
        }

        common_json out = { { "n_layer", llama_model_n_layer(model.get()) }, { "n_ctx_train", llama_model_n_ctx_train(model.get()) }, { "devices", common_json::array() } };
        for (int i = 0; i <= n_devices; i++) {
            ggml_backend_dev_t dev = i < n_devices ? llama_model_get_device(model.get(), i) : ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
            size_t free = 0, total = 0;
            if (dev != nullptr) {
                ggml_backend_dev_memory(dev, &free, &total);
            }
            out["devices"].push_back({
                { "name", i < n_devices ? ggml_backend_dev_name(dev) : "host" },
                { "total", total }, { "free", free },
                { "model", use[i].model }, { "context", use[i].context }, { "compute", use[i].compute },
            });
        }
        *out_json = copy_string(out.dump());
    });
}

// llama-server's --fit: how many layers to offload, how to split them and how large a context to make so that each
// GPU keeps margin_bytes free (common_fit_params; the host's memory it treats as unlimited, which the caller checks).
// Only settings left at llama.cpp's defaults change: n_gpu_layers -1, and n_ctx 0 (then at least n_ctx_min).
// params_json: as localllm_memory_estimate's, plus n_ctx_min and margin_bytes. out_json: status (0 fits, 1 does not),
// n_gpu_layers, n_ctx, tensor_split[] (one per device llama.cpp knows), overrides (tensor placements --fit chose, which
// this shim does not pass back: a count). Not thread-safe: llama.cpp's fit swaps the global log callback meanwhile.
int localllm_fit_params(const char * model_path, const char * params_json, char ** out_json, char ** error) {
    *out_json = nullptr;
    return guarded(error, [&] {
        const common_json params = common_json::parse(params_json);
        llama_model_params mparams = model_params_from(params);
        llama_context_params cparams = context_params_from(params);
        cparams.n_ctx = params.value("n_ctx", 0u);  // 0: the fit chooses

        std::vector<float> tensor_split(llama_max_devices(), 0.0f);
        std::vector<llama_model_tensor_buft_override> overrides(llama_max_tensor_buft_overrides(), llama_model_tensor_buft_override{ nullptr, nullptr });
        std::vector<size_t> margins(llama_max_devices(), params.value("margin_bytes", static_cast<size_t>(1024) * 1024 * 1024));
        const common_params_fit_status status = common_fit_params(model_path, &mparams, &cparams, tensor_split.data(), overrides.data(),
            margins.data(), params.value("n_ctx_min", 4096u), nullptr, GGML_LOG_LEVEL_ERROR);
        if (status == COMMON_PARAMS_FIT_STATUS_ERROR) {
            throw std::runtime_error("llama.cpp could not fit the model (see its log)");
        }

        size_t n_overrides = 0;
        while (n_overrides < overrides.size() && overrides[n_overrides].pattern != nullptr) {
            n_overrides++;
        }
        common_json out = {
            { "status", status == COMMON_PARAMS_FIT_STATUS_SUCCESS ? 0 : 1 },
            { "n_gpu_layers", mparams.n_gpu_layers },
            { "n_ctx", cparams.n_ctx },
            { "tensor_split", tensor_split },
            { "overrides", n_overrides },
        };
        *out_json = copy_string(out.dump());
    });
}

}  // extern "C"
#pragma GCC visibility pop
