from fastapi import APIRouter
from pydantic import BaseModel, Field

from serving.api.deps import AssistantDep, ConversationsDep
from serving.assistant.assistant import MAX_QUESTION_CHARS, AssistantResponse
from serving.conversations import Conversation, ConversationSummary

router = APIRouter(tags=["chat"])


class ChatRequest(BaseModel):
    question: str = Field(
        min_length=1, max_length=MAX_QUESTION_CHARS, examples=["医院本年药占比是多少？包括同比"]
    )
    conversation_id: str | None = Field(None, description="continue a conversation; omit to start one")


class ChatResponse(AssistantResponse):
    conversation_id: str


@router.post("/chat", response_model=ChatResponse, summary="提问：数值、口径、政策（带引用）")
def chat(body: ChatRequest, assistant: AssistantDep, store: ConversationsDep) -> ChatResponse:
    """Plan the question (follow-ups inherit from the conversation), run the tools, answer with the
    figures, 口径, citations and a chart; the resolved plan and every tool result come back too."""
    conversation_id = body.conversation_id or store.create(title=body.question)
    history = store.history(conversation_id)
    response = assistant.ask(body.question, history)
    store.append(
        conversation_id, body.question, response.answer, response.plan, response.model_dump(mode="json")
    )
    return ChatResponse(**response.model_dump(), conversation_id=conversation_id)


@router.get("/conversations", response_model=list[ConversationSummary], summary="会话列表")
def list_conversations(store: ConversationsDep) -> list[ConversationSummary]:
    return store.list()


@router.get("/conversations/{conversation_id}", response_model=Conversation, summary="一个会话的全部消息")
def get_conversation(conversation_id: str, store: ConversationsDep) -> Conversation:
    return store.get(conversation_id)


@router.delete("/conversations/{conversation_id}", status_code=204, summary="删除会话")
def delete_conversation(conversation_id: str, store: ConversationsDep) -> None:
    store.delete(conversation_id)
